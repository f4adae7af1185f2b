import { test, expect, hydrated, hydratedForm, signIn, uniqueEmail, DEMO_ADMIN, DEMO_PASSWORD } from "./fixtures";
import type { Page } from "@playwright/test";

// Issue 24's guidance items: a new student's first steps and their own celebration (7), one person
// picker for everyone (8), announcements that can be edited and deleted (11), the token copy button
// (11), chart values (11), named devices and the security log (6, 11), and the session list's paging (11).
// Demo accounts this spec alone uses: Jade (pages her sessions), Ivan (the picker's recipient).

async function register(page: Page, name: string): Promise<string> {
  const email = uniqueEmail("guide");
  await page.goto("/register");
  await hydratedForm(page);
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery staple");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/$/);
  await hydrated(page);
  return email;
}

test("a new student's first steps tick off live, and completing a goal celebrates", async ({ page, consoleErrors }) => {
  await register(page, "Nia Newcomer");
  const steps = page.getByTestId("first-steps");
  await expect(steps).toBeVisible();
  await expect(steps).toContainText("0 of 3 done");
  await expect(steps.getByRole("listitem")).toHaveCount(3);
  // No empty charts before there is anything to chart.
  await expect(page.getByTestId("weekly-chart")).toHaveCount(0);

  await steps.getByRole("link", { name: "Open your learning log" }).click();
  await expect(page).toHaveURL(/\/learning$/);
  await hydrated(page);
  const goal = `First goal ${Date.now()}`;
  await page.getByLabel("New goal").fill(goal);
  await page.getByRole("button", { name: "Set goal" }).click();
  await expect(page.getByTestId("goal-row").filter({ hasText: goal })).toHaveCount(1);
  await page.getByRole("checkbox", { name: goal }).check();
  // The student's own feedback, not only the mentor's notification.
  const toast = page.getByTestId("toast").filter({ hasText: "Goal complete!" });
  await expect(toast).toBeVisible();
  await expect(toast).toContainText(goal);

  await page.getByRole("link", { name: "Dashboard" }).first().click();
  await hydrated(page);
  await expect(steps).toContainText("1 of 3 done");
  await expect(steps.locator("li[data-done=true]")).toContainText("Set a goal");

  // A session logged in another tab ticks the first step here, live, and the charts appear.
  const other = await page.context().newPage();
  await other.goto("/learning");
  await hydrated(other);
  const form = other.getByTestId("log-form");
  await form.getByLabel("Hours").fill("1");
  await form.getByLabel("Minutes").fill("30");
  await form.getByLabel("Topic or skill").fill("Reading");
  await form.getByRole("button", { name: "Log session" }).click();
  await expect(other.getByTestId("status-message")).toHaveText("Session logged");
  await expect(steps).toContainText("2 of 3 done");
  const weekly = page.getByTestId("weekly-chart");
  await expect(weekly).toBeVisible();
  // Each bar with time shows its value; the hover title has the exact figure.
  await expect(weekly.locator("text[data-value='90']")).toHaveText("1.5h");
  await expect(weekly.locator("rect[data-minutes='90'] title")).toContainText("1 h 30 min");

  await other.getByLabel("Skill", { exact: true }).fill("Reading");
  await other.getByRole("button", { name: "Add", exact: true }).click();
  await expect(other.getByTestId("skills")).toContainText("Reading");
  await expect(steps).toHaveCount(0);
  await other.close();
});

test("an admin finds one person by name with the picker, by keyboard, and sends to them", async ({ page, consoleErrors }) => {
  await signIn(page, DEMO_ADMIN, DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/notifications");
  await hydrated(page);
  const compose = page.getByTestId("compose");
  await compose.getByLabel("To", { exact: true }).selectOption("user");
  const picker = compose.getByRole("combobox", { name: "Person" });
  await picker.fill("ivan");
  const options = compose.getByTestId("person-picker").getByRole("option");
  await expect(options).toHaveCount(1);
  await expect(options.first()).toContainText("Ivan Petrov");
  await picker.press("ArrowDown");
  await expect(picker).toHaveAttribute("aria-activedescendant", /option-\d+/);
  await picker.press("Enter");
  await expect(picker).toHaveValue("Ivan Petrov");
  await expect(picker).toHaveAttribute("aria-expanded", "false");
  const title = `Picked ${Date.now()}`;
  await compose.getByLabel("Title", { exact: true }).fill(title);
  await compose.getByLabel("Message", { exact: true }).fill("Found you by name.");
  await compose.getByRole("button", { name: "Send" }).click();
  await expect(compose).toContainText("Sent to 1 person.");
  // The text clears for the next one; the chosen person stays.
  await expect(compose.getByLabel("Title", { exact: true })).toHaveValue("");
  await expect(picker).toHaveValue("Ivan Petrov");

  // Someone the admin cannot address is never offered: a search that matches nobody says so.
  await picker.fill("zz-nobody-zz");
  await expect(compose.getByTestId("person-picker")).toContainText("No one you can send to matches.");

  const ivan = await page.context().browser()!.newContext();
  const ivanPage = await ivan.newPage();
  await signIn(ivanPage, "ivan@studyhall.test", DEMO_PASSWORD);
  await expect(ivanPage).toHaveURL(/\/$/);
  await ivanPage.goto("/notifications");
  await hydrated(ivanPage);
  await expect(ivanPage.getByTestId("notification").filter({ hasText: title })).toHaveCount(1);
  await ivan.close();
});

test("an admin edits and deletes an announcement; another reader's page follows live", async ({ browser, baseURL }) => {
  const adminCtx = await browser.newContext({ baseURL });
  const admin = await adminCtx.newPage();
  await signIn(admin, DEMO_ADMIN, DEMO_PASSWORD);
  await expect(admin).toHaveURL(/\/$/);
  await hydrated(admin);
  const readerCtx = await browser.newContext({ baseURL });
  const reader = await readerCtx.newPage();
  await signIn(reader, "jade@studyhall.test", DEMO_PASSWORD);
  await expect(reader).toHaveURL(/\/$/);
  await hydrated(reader);

  const title = `Room change ${Date.now()}`;
  await admin.getByText("Post an announcement").click();
  const form = admin.getByTestId("announcement-form");
  await form.getByLabel("Title").fill(title);
  await form.getByLabel("Message").fill("Room 4.\nBring a laptop.");
  await form.getByRole("button", { name: "Post" }).click();
  const seen = reader.getByTestId("announcement").filter({ hasText: title });
  await expect(seen).toHaveCount(1);
  // The message keeps its lines.
  await expect(seen.locator("p.whitespace-pre-line")).toHaveText("Room 4.\nBring a laptop.");
  // Readers get no edit controls.
  await expect(seen.getByRole("button", { name: /Edit|Delete/ })).toHaveCount(0);

  const mine = admin.getByTestId("announcement").filter({ hasText: title });
  await mine.getByRole("button", { name: `Edit announcement ${title}` }).click();
  const edit = admin.getByTestId("announcement-edit");
  await edit.getByLabel("Message").fill("Room 7 instead.");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(admin.getByTestId("status-message")).toHaveText("Announcement saved");
  await expect(seen).toContainText("Room 7 instead.");
  await expect(seen).not.toContainText("Room 4.");

  await mine.getByRole("button", { name: `Delete announcement ${title}` }).click();
  const dialog = admin.getByRole("dialog");
  await expect(dialog).toContainText(title);
  await dialog.getByRole("button", { name: "Delete announcement" }).click();
  await expect(admin.getByTestId("status-message")).toHaveText("Announcement deleted");
  await expect(seen).toHaveCount(0);
  await expect(mine).toHaveCount(0);
  await adminCtx.close();
  await readerCtx.close();
});

test("a new API token has a copy button that puts it on the clipboard", async ({ page, context, consoleErrors }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await signIn(page, DEMO_ADMIN, DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/admin/tokens");
  await hydrated(page);
  await page.getByLabel("Name").fill(`Copy test ${Date.now()}`);
  await page.getByRole("checkbox").first().check();
  await page.getByRole("button", { name: "Create token" }).click();
  const token = await page.getByTestId("new-token").textContent();
  expect(token).toMatch(/^sht_/);
  await page.getByTestId("copy-token").click();
  await expect(page.getByTestId("copy-result")).toHaveText("Copied.");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
});

test("the profile names devices and lists recent sign-ins", async ({ page, consoleErrors }) => {
  await signIn(page, "jade@studyhall.test", DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/profile");
  await hydrated(page);
  const log = page.getByTestId("sign-ins");
  await expect(log.getByRole("listitem").first()).toContainText(/on Linux/);
  await expect(log).toContainText("Browser");
  // A device name, never the raw user-agent string.
  await expect(log).not.toContainText("Mozilla/");
  await expect(page.getByText("This browser")).toBeVisible();
});

test("the session list shows a page at a time and Show more continues without repeats", async ({ page, consoleErrors }) => {
  await signIn(page, "jade@studyhall.test", DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/learning");
  await hydrated(page);
  const res = await page.request.get("/api/v1/learning");
  const total: number = (await res.json()).analytics.sessions;
  expect(total).toBeGreaterThan(20);
  const rows = page.getByTestId("session-row");
  await expect(rows).toHaveCount(20);
  const more = page.getByTestId("sessions-more");
  while ((await rows.count()) < total) {
    const before = await rows.count();
    await more.click();
    await expect.poll(() => rows.count()).toBeGreaterThan(before);
  }
  await expect(rows).toHaveCount(total);
  await expect(more).toHaveCount(0);
  const ids = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-session-id")));
  expect(new Set(ids).size).toBe(total);
});
