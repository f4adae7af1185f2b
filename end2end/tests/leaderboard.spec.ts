// The leaderboard: a student's page follows another student's logged time live (the row appears and
// climbs to the top without a reload), the viewer's own row stays in sight while the list scrolls
// past it, and the page fits a phone.
import { test, expect, hydrated, signIn, uniqueEmail } from "./fixtures";
import type { APIRequestContext } from "@playwright/test";

const PASSWORD = "correct horse battery";

async function newStudent(request: APIRequestContext, baseURL: string, name: string) {
  const email = uniqueEmail(name.toLowerCase().replace(/\s+/g, "."));
  const res = await request.post(`${baseURL}/api/v1/auth/register`, {
    data: { email, display_name: name, password: PASSWORD, time_zone: "UTC" },
  });
  expect(res.status(), await res.text()).toBe(201);
  const token = await request.post(`${baseURL}/api/v1/auth/token`, { data: { email, password: PASSWORD } });
  expect(token.status()).toBe(200);
  return { email, token: (await token.json()).token as string };
}

async function logMinutes(request: APIRequestContext, baseURL: string, token: string, minutes: number) {
  const day = new Date().toISOString().slice(0, 10);
  const res = await request.post(`${baseURL}/api/v1/learning/sessions`, {
    headers: { authorization: `Bearer ${token}` },
    data: { day, minutes, topic: "Leaderboard practice" },
  });
  expect(res.status(), await res.text()).toBe(201);
}

test("another student's logged time moves the board live, and my own row stays in sight", async ({
  page,
  request,
  baseURL,
}) => {
  const suffix = Math.floor(Math.random() * 1e6);
  const viewerName = `Vera ${suffix}`;
  const climberName = `Cleo ${suffix}`;
  const viewer = await newStudent(request, baseURL!, viewerName);
  const climber = await newStudent(request, baseURL!, climberName);
  // The viewer has one minute: near the bottom of the school's board, below the fold on a phone.
  await logMinutes(request, baseURL!, viewer.token, 1);
  await page.setViewportSize({ width: 390, height: 640 });
  await signIn(page, viewer.email, PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/leaderboard");
  await hydrated(page);
  const mine = page.locator('[data-testid="board-row"][data-me="true"]');
  await expect(mine).toContainText(viewerName);
  await expect(mine, "my row is pinned in sight though the list goes on").toBeInViewport();
  const noSideways = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  expect(noSideways, "no sideways scroll at 390 px").toBe(true);
  await page.mouse.wheel(0, 4000);
  await expect(mine, "still in sight at the bottom of the page").toBeInViewport();

  // Cleo logs a whole day: she appears at the top of Vera's board without a reload.
  await logMinutes(request, baseURL!, climber.token, 1440);
  const podium = page.getByTestId("podium");
  await expect(podium).toContainText(climberName, { timeout: 10_000 });
  await expect(page.getByTestId("board-said")).toContainText(climberName);
  await expect(podium.locator("li").first()).toContainText(climberName);
  // And her next session raises her score in place.
  await logMinutes(request, baseURL!, climber.token, 30);
  await expect(podium.locator("li").first()).toContainText("1470 pts", { timeout: 10_000 });
});

test("a new cohort's board is empty and says so; how points work is on the page", async ({ page, request, baseURL }) => {
  const admin = await request.post(`${baseURL}/api/v1/auth/token`, {
    data: { email: "admin@studyhall.test", password: "studyhall-demo" },
  });
  const adminToken = (await admin.json()).token as string;
  const auth = { authorization: `Bearer ${adminToken}` };
  const cohort = await request.post(`${baseURL}/api/v1/admin/cohorts`, {
    headers: auth,
    data: { name: `Board cohort ${Math.floor(Math.random() * 1e6)}` },
  });
  expect(cohort.status(), await cohort.text()).toBe(201);
  const cohortId = (await cohort.json()).id as number;
  const lena = await newStudent(request, baseURL!, `Lena ${Math.floor(Math.random() * 1e6)}`);
  const me = await request.get(`${baseURL}/api/v1/me`, { headers: { authorization: `Bearer ${lena.token}` } });
  const lenaId = (await me.json()).user.id as number;
  const joined = await request.patch(`${baseURL}/api/v1/admin/users/${lenaId}`, { headers: auth, data: { cohort_id: cohortId } });
  expect(joined.status(), await joined.text()).toBe(204);

  await signIn(page, lena.email, PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/leaderboard");
  await hydrated(page);
  // A student starts on their cohort's board: nobody there has logged anything yet.
  await expect(page.getByTestId("board-empty")).toContainText("No one has logged time this week yet — be first.");
  await expect(page.getByRole("link", { name: "Log learning" })).toBeVisible();
  await page.getByText("How points work").click();
  await expect(page.getByText("1 point for every minute")).toBeVisible();
  // Lena logs: she is first on her cohort's board, live.
  await logMinutes(request, baseURL!, lena.token, 20);
  await expect(page.getByTestId("podium")).toContainText("20 pts", { timeout: 10_000 });
  await page.getByRole("button", { name: "Last week" }).click();
  await expect(page.getByTestId("board-period")).toContainText("ended");
});
