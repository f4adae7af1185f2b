// Live learning across several browser contexts: notifications reach the bell and toasts without a
// reload, reading in one tab clears the badge in another, logged learning moves the student's tiles
// and chart and the mentor's row, nothing sent while offline is lost or doubled, and expired
// notifications vanish by themselves. Each test uses its own demo students so runs in parallel do
// not see each other's notifications.
import { test, expect, hydrated, signIn, DEMO_ADMIN, DEMO_PASSWORD } from "./fixtures";
import type { APIRequestContext, Page } from "@playwright/test";

async function adminToken(request: APIRequestContext, baseURL: string) {
  const res = await request.post(`${baseURL}/api/v1/auth/token`, { data: { email: DEMO_ADMIN, password: DEMO_PASSWORD } });
  expect(res.status()).toBe(200);
  return (await res.json()).token as string;
}

async function userId(request: APIRequestContext, baseURL: string, token: string, search: string) {
  const res = await request.get(`${baseURL}/api/v1/admin/users?search=${encodeURIComponent(search)}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status()).toBe(200);
  return (await res.json()).items[0].user.id as number;
}

async function notify(request: APIRequestContext, baseURL: string, token: string, body: object) {
  const res = await request.post(`${baseURL}/api/v1/notifications`, {
    headers: { authorization: `Bearer ${token}` },
    data: body,
  });
  expect(res.status(), await res.text()).toBe(201);
}

async function live(page: Page) {
  await hydrated(page);
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "open");
}

async function badge(page: Page) {
  const el = page.getByTestId("bell-count");
  if (!(await el.isVisible())) return 0;
  return Number(await el.textContent());
}

test("a mentor's cohort announcement reaches a student's bell and toast live; reading in one tab clears the other", async ({
  browser,
  baseURL,
}) => {
  const mentorContext = await browser.newContext({ baseURL });
  const studentContext = await browser.newContext({ baseURL });
  const mentor = await mentorContext.newPage();
  const tab1 = await studentContext.newPage();
  await signIn(tab1, "dara@studyhall.test", DEMO_PASSWORD);
  await expect(tab1).toHaveURL(/\/$/);
  const tab2 = await studentContext.newPage();
  await tab2.goto("/learning");
  await live(tab1);
  await live(tab2);
  // Start from a clean badge: opening the bell marks everything seen.
  await tab1.getByTestId("bell").click();
  await expect(tab1.getByTestId("bell-count")).toBeHidden();
  await expect(tab2.getByTestId("bell-count")).toBeHidden();
  await tab1.getByTestId("bell").click();

  await signIn(mentor, "mentor.omar@studyhall.test", DEMO_PASSWORD);
  await expect(mentor).toHaveURL(/\/$/);
  await mentor.goto("/notifications");
  await live(mentor);
  const title = `Study group moved ${Date.now()}`;
  const form = mentor.getByTestId("compose");
  await form.getByLabel("To").selectOption("cohort");
  await form.getByLabel("Cohort").selectOption({ label: "Autumn Cohort" });
  await form.getByLabel("Priority").selectOption("high");
  await form.getByLabel("Title", { exact: true }).fill(title);
  await form.getByLabel("Message").fill("Room 4 instead of room 2.");
  await form.getByRole("button", { name: "Send" }).click();
  await expect(form.getByRole("status")).toContainText("Sent to");

  for (const tab of [tab1, tab2]) {
    await expect(tab.getByTestId("bell-count")).toHaveText("1");
    await expect(tab.getByTestId("toast").filter({ hasText: title })).toBeVisible();
    await expect(tab).toHaveTitle(/^\(\d+\) /);
  }
  // Tab 1 opens the bell (seen): tab 2's badge and title clear together (they show one count), and
  // reading the notification in tab 1 marks it read in tab 2.
  await tab1.getByTestId("bell").click();
  const item = tab1.getByTestId("bell-item").filter({ hasText: title });
  await expect(item).toHaveAttribute("data-unread", "true");
  await expect(tab2.getByTestId("bell-count")).toBeHidden();
  await expect(tab2).toHaveTitle(/^Learning · Studyhall$/);
  // The bell is a menu: its actions are menu items, each named after the notification it acts on.
  await item.getByRole("menuitem", { name: /^Mark read/ }).click();
  await expect(item).toHaveAttribute("data-unread", "false");
  await tab2.getByTestId("bell").click();
  await expect(tab2.getByTestId("bell-item").filter({ hasText: title })).toHaveAttribute("data-unread", "false");
  await mentorContext.close();
  await studentContext.close();
});

test("logging two hours moves the student's tiles and chart and the mentor's row live", async ({ browser, baseURL }) => {
  const mentorContext = await browser.newContext({ baseURL });
  const studentContext = await browser.newContext({ baseURL });
  const mentor = await mentorContext.newPage();
  const dashboard = await studentContext.newPage();
  await signIn(dashboard, "elif@studyhall.test", DEMO_PASSWORD);
  await expect(dashboard).toHaveURL(/\/$/);
  await live(dashboard);
  await signIn(mentor, "mentor.maya@studyhall.test", DEMO_PASSWORD);
  await expect(mentor).toHaveURL(/\/$/);
  await live(mentor);

  const hours = dashboard.getByTestId("kpi-hours");
  const hoursBefore = Number(await hours.textContent());
  const lastBar = dashboard.getByTestId("weekly-chart").locator("rect").last();
  const weekBefore = Number(await lastBar.getAttribute("data-minutes"));
  const sessionsBefore = Number(await dashboard.getByTestId("kpi-sessions").textContent());
  const row = mentor.locator("tr", { hasText: "Elif Yilmaz" });
  const rowWeekBefore = await row.getByTestId("row-week").textContent();

  const logger = await studentContext.newPage();
  await logger.goto("/learning");
  await live(logger);
  const form = logger.getByTestId("log-form");
  await form.getByLabel("Hours").fill("2");
  await form.getByLabel("Minutes").fill("0");
  await form.getByLabel("Topic or skill").fill("Distributed systems");
  await form.getByRole("button", { name: "Log session" }).click();
  await expect(logger.getByTestId("sessions").getByText("Distributed systems")).toBeVisible();

  await expect(hours).toHaveText((hoursBefore + 2).toFixed(1));
  await expect(dashboard.getByTestId("kpi-sessions")).toHaveText(String(sessionsBefore + 1));
  await expect(lastBar).toHaveAttribute("data-minutes", String(weekBefore + 120));
  await expect(dashboard.getByTestId("recent-activity")).toContainText("Distributed systems");
  await expect(row.getByTestId("row-week")).not.toHaveText(rowWeekBefore!);
  await mentorContext.close();
  await studentContext.close();
});

test("a notification sent while the browser was offline shows once when it is back", async ({
  page,
  context,
  request,
  baseURL,
}) => {
  const token = await adminToken(request, baseURL!);
  const gustav = await userId(request, baseURL!, token, "gustav");
  await signIn(page, "gustav@studyhall.test", DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await live(page);
  const before = await badge(page);
  await context.setOffline(true);
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "offline");
  const title = `Missed while offline ${Date.now()}`;
  await notify(request, baseURL!, token, {
    audience: { type: "user", id: gustav },
    kind: "reminder",
    title,
    message: "Your session with Maya starts in an hour.",
    link: "/learning",
  });
  // Nothing arrives while offline.
  await page.waitForTimeout(500);
  expect(await badge(page)).toBe(before);
  await context.setOffline(false);
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "open");
  await expect(page.getByTestId("bell-count")).toHaveText(String(before + 1));
  await page.getByTestId("bell").click();
  await expect(page.getByTestId("bell-item").filter({ hasText: title })).toHaveCount(1);
  // Following it marks it read and goes to its link.
  await page.getByTestId("bell-item").filter({ hasText: title }).getByRole("menuitem").first().click();
  await expect(page).toHaveURL(/\/learning$/);
  await page.getByTestId("bell").click();
  await expect(page.getByTestId("bell-item").filter({ hasText: title })).toHaveAttribute("data-unread", "false");
});

test("an expired notification disappears without a reload", async ({ page, request, baseURL }) => {
  const token = await adminToken(request, baseURL!);
  const ivan = await userId(request, baseURL!, token, "ivan");
  await signIn(page, "ivan@studyhall.test", DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await live(page);
  await page.getByTestId("bell").click();
  const title = `Flash quiz ${Date.now()}`;
  await notify(request, baseURL!, token, {
    audience: { type: "user", id: ivan },
    kind: "reminder",
    priority: "low",
    title,
    message: "Open for five seconds only.",
    ttl_secs: 5,
  });
  const item = page.getByTestId("bell-item").filter({ hasText: title });
  await expect(item).toHaveCount(1);
  await expect(item).toHaveCount(0, { timeout: 15_000 });
  await page.goto("/notifications");
  await expect(page.getByTestId("notifications").getByText(title)).toHaveCount(0);
});
