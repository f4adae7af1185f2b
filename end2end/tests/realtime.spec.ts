import { test, expect, hydrated, signIn, DEMO_ADMIN, DEMO_PASSWORD } from "./fixtures";
import type { APIRequestContext } from "@playwright/test";

async function adminToken(request: APIRequestContext, baseURL: string) {
  const res = await request.post(`${baseURL}/api/v1/auth/token`, { data: { email: DEMO_ADMIN, password: DEMO_PASSWORD } });
  expect(res.status()).toBe(200);
  return (await res.json()).token as string;
}

async function announce(request: APIRequestContext, baseURL: string, token: string, title: string) {
  const res = await request.post(`${baseURL}/api/v1/announcements`, {
    headers: { authorization: `Bearer ${token}` },
    data: { title, body: `Body of ${title}` },
  });
  expect(res.status()).toBe(201);
}

test("announcements arrive live, and ones sent while offline arrive once when back", async ({
  page,
  context,
  request,
  baseURL,
  consoleErrors,
}) => {
  const token = await adminToken(request, baseURL!);
  await signIn(page, "ben@studyhall.test", DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await hydrated(page);
  const status = page.getByTestId("connection-status");
  await expect(status).toHaveAttribute("data-state", "open");
  const list = page.getByTestId("announcements");

  const stamp = Date.now();
  await announce(request, baseURL!, token, `Live ${stamp}`);
  await expect(list.getByText(`Live ${stamp}`, { exact: true })).toBeVisible();

  await context.setOffline(true);
  await expect(status).toHaveAttribute("data-state", "offline");
  await expect(status).toContainText("You are offline");
  const missed = [1, 2, 3].map((n) => `Missed ${n} ${stamp}`);
  for (const title of missed) await announce(request, baseURL!, token, title);
  // Nothing arrives while offline.
  await page.waitForTimeout(500);
  await expect(list.getByText(missed[0], { exact: true })).toHaveCount(0);

  await context.setOffline(false);
  await expect(status).toHaveAttribute("data-state", "open");
  for (const title of missed) {
    await expect(list.getByText(title, { exact: true })).toHaveCount(1);
  }
  await expect(list.getByText(`Live ${stamp}`, { exact: true })).toHaveCount(1);
  // Newest first, in publication order (other tests may post in between: keep only this test's).
  const titles = (await list.locator("li p.font-medium").allTextContents()).filter((t) => t.includes(`${stamp}`));
  expect(titles).toEqual([...missed].reverse().concat(`Live ${stamp}`));
});

test("an admin posts an announcement and another user sees it without reload", async ({ browser, baseURL }) => {
  const adminContext = await browser.newContext({ baseURL });
  const studentContext = await browser.newContext({ baseURL });
  const admin = await adminContext.newPage();
  const student = await studentContext.newPage();
  await signIn(student, "chen@studyhall.test", DEMO_PASSWORD);
  await hydrated(student);
  await expect(student.getByTestId("connection-status")).toHaveAttribute("data-state", "open");
  await signIn(admin, DEMO_ADMIN, DEMO_PASSWORD);
  await hydrated(admin);
  const title = `Exam moved ${Date.now()}`;
  await admin.getByText("Post an announcement").click();
  await admin.getByLabel("Title").fill(title);
  await admin.getByLabel("Message").fill("The exam is now on Friday.");
  await admin.getByRole("button", { name: "Post" }).click();
  await expect(admin.getByTestId("announcements").getByText(title, { exact: true })).toHaveCount(1);
  await expect(student.getByTestId("announcements").getByText(title, { exact: true })).toHaveCount(1);
  await adminContext.close();
  await studentContext.close();
});
