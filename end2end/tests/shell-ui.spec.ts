// The signed-in shell on phones and by keyboard (issue 24, items 1, 3, 4, 9, 10 and the 404): admin
// paging, no sideways scroll at 360 px for any role, the bell as a menu button that fits a 390 px
// screen, one count for the badge and the tab title, destructive admin changes confirmed and announced,
// and a 404 that keeps the signed-in frame.
//
// Every test makes its own users through the admin REST API (or only reads demo users no other spec
// uses), so the two workers never share an inbox or a row.
import { test, expect, hydrated, signIn, uniqueEmail, DEMO_ADMIN, DEMO_PASSWORD } from "./fixtures";
import type { APIRequestContext, Page } from "@playwright/test";

const PASSWORD = "a long enough password";

async function adminToken(request: APIRequestContext, baseURL: string) {
  const res = await request.post(`${baseURL}/api/v1/auth/token`, { data: { email: DEMO_ADMIN, password: DEMO_PASSWORD } });
  expect(res.status()).toBe(200);
  return (await res.json()).token as string;
}

type Api = { request: APIRequestContext; baseURL: string; token: string };

async function api(request: APIRequestContext, baseURL: string | undefined): Promise<Api> {
  return { request, baseURL: baseURL!, token: await adminToken(request, baseURL!) };
}

async function createUser(a: Api, name: string, email: string, role = "student") {
  const res = await a.request.post(`${a.baseURL}/api/v1/admin/users`, {
    headers: { authorization: `Bearer ${a.token}` },
    data: { email, display_name: name, password: PASSWORD, time_zone: "UTC", role },
  });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).user as { id: number; email: string; display_name: string };
}

async function notify(a: Api, userId: number, title: string) {
  const res = await a.request.post(`${a.baseURL}/api/v1/notifications`, {
    headers: { authorization: `Bearer ${a.token}` },
    data: { audience: { type: "user", id: userId }, kind: "reminder", title, message: `About ${title}` },
  });
  expect(res.status(), await res.text()).toBe(201);
}

async function adminRow(a: Api, email: string) {
  const res = await a.request.get(`${a.baseURL}/api/v1/admin/users`, {
    headers: { authorization: `Bearer ${a.token}` },
    params: { search: email },
  });
  expect(res.status()).toBe(200);
  const page = await res.json();
  expect(page.items).toHaveLength(1);
  return page.items[0].user as { role: string; disabled: boolean };
}

/** A fresh student with `count` notifications, signed in on `page` at the dashboard. */
async function freshStudent(page: Page, a: Api, prefix: string, count: number) {
  const email = uniqueEmail(prefix);
  const user = await createUser(a, `${prefix} Student`, email);
  for (let i = 1; i <= count; i++) await notify(a, user.id, `${prefix} note ${i}`);
  await signIn(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await hydrated(page);
  return user;
}

async function live(page: Page) {
  await hydrated(page);
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-state", "open");
}

/** Fails with the widest offending elements named, if the page scrolls sideways. */
async function expectNoSidewaysScroll(page: Page, where: string) {
  const overflow = await page.evaluate(() => {
    const width = window.innerWidth;
    const scroll = document.documentElement.scrollWidth;
    if (scroll <= width) return null;
    const culprits = [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > width + 0.5)
      .map((e) => {
        const el = e as HTMLElement;
        return `<${el.tagName.toLowerCase()} class="${el.className}" right=${Math.round(el.getBoundingClientRect().right)}>`;
      })
      .slice(-5);
    return { width, scroll, culprits };
  });
  expect(overflow, `${where} scrolls sideways`).toBeNull();
}

test("the admin users page pages forward and back", async ({ page, request, baseURL, consoleErrors }) => {
  const a = await api(request, baseURL);
  const tag = `pager${Date.now()}`;
  // 30 users matching the search: 25 on the first page (API.md), 5 on the second.
  for (let i = 1; i <= 30; i += 5) {
    await Promise.all(
      [0, 1, 2, 3, 4].map((k) => {
        const n = String(i + k).padStart(2, "0");
        return createUser(a, `Pager ${tag} ${n}`, `${tag}.${n}@example.com`);
      }),
    );
  }
  await signIn(page, DEMO_ADMIN, DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/admin/users");
  await hydrated(page);
  await page.getByLabel("Search").fill(tag);
  await expect(page.getByRole("status").filter({ hasText: /^30 users$/ })).toBeVisible();
  const rows = page.locator('[data-testid^="user-row-"]');
  const pages = page.getByRole("navigation", { name: "Pages" });
  const previous = pages.getByRole("button", { name: "Previous", exact: true });
  const next = pages.getByRole("button", { name: "Next", exact: true });
  const indicator = page.getByTestId("page-indicator");

  await expect(indicator).toHaveText("Page 1 of 2");
  await expect(rows).toHaveCount(25);
  await expect(previous).toBeDisabled();
  await expect(next).toBeEnabled();

  await next.click();
  await expect(indicator).toHaveText("Page 2 of 2");
  await expect(rows).toHaveCount(5);
  // The second page holds the users the first did not (ordering is deterministic by creation).
  const second = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-testid")));
  expect(new Set(second).size).toBe(5);
  await expect(next).toBeDisabled();
  await expect(previous).toBeEnabled();

  await previous.click();
  await expect(indicator).toHaveText("Page 1 of 2");
  await expect(rows).toHaveCount(25);
  for (const id of second) await expect(page.getByTestId(id!)).toHaveCount(0);
  await expect(previous).toBeDisabled();
  await expect(next).toBeEnabled();
});

test("disabling a user and changing a role ask first and say when done", async ({ page, request, baseURL, consoleErrors }) => {
  const a = await api(request, baseURL);
  const email = uniqueEmail("confirmee");
  await createUser(a, "Connie Confirm", email);
  await signIn(page, DEMO_ADMIN, DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/admin/users");
  await hydrated(page);
  await page.getByLabel("Search").fill(email);
  const row = page.getByTestId(`user-row-${email}`);
  await expect(row).toBeVisible();
  const dialog = page.getByTestId("confirm-dialog");
  const status = page.getByTestId("status-message");

  // Cancel keeps the account and gives focus back to the button that asked.
  const disable = row.getByRole("button", { name: "Disable", exact: true });
  await disable.click();
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole("heading")).toHaveText("Disable Connie Confirm's account?");
  await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(disable).toBeFocused();
  await expect(row.getByText("Active", { exact: true })).toBeVisible();
  expect((await adminRow(a, email)).disabled).toBe(false);

  // Escape cancels too.
  await disable.click();
  await expect(dialog).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(disable).toBeFocused();
  expect((await adminRow(a, email)).disabled).toBe(false);

  // Confirm disables, and a status message says so.
  await disable.click();
  await dialog.getByRole("button", { name: "Disable account" }).click();
  await expect(status).toHaveText("Connie Confirm's account disabled");
  await expect(row.getByText("Disabled", { exact: true })).toBeVisible();
  await expect(row.getByRole("button", { name: "Enable", exact: true })).toBeVisible();
  await expect.poll(async () => (await adminRow(a, email)).disabled).toBe(true);

  // A role change asks; Cancel puts the menu back and changes nothing.
  const role = row.getByLabel("Role of Connie Confirm");
  await role.selectOption("mentor");
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole("heading")).toHaveText("Make Connie Confirm a mentor?");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(role).toHaveValue("student");
  expect((await adminRow(a, email)).role).toBe("student");

  // Confirmed, it is sent and announced.
  await role.selectOption("mentor");
  await dialog.getByRole("button", { name: "Change role" }).click();
  await expect(status).toHaveText("Role changed to mentor");
  await expect(role).toHaveValue("mentor");
  await expect.poll(async () => (await adminRow(a, email)).role).toBe("mentor");
});

test("the bell is a menu button by keyboard and pointer", async ({ page, request, baseURL, consoleErrors }) => {
  const a = await api(request, baseURL);
  await freshStudent(page, a, "menukeys", 3);
  const bell = page.getByTestId("bell");
  const panel = page.getByTestId("bell-panel");
  const items = panel.getByRole("menuitem");
  await expect(page.getByTestId("bell-count")).toHaveText("3");
  await expect(bell).toHaveAttribute("aria-haspopup", "menu");

  // Enter opens it with focus on the first item.
  await bell.focus();
  await page.keyboard.press("Enter");
  await expect(panel).toBeVisible();
  await expect(bell).toHaveAttribute("aria-expanded", "true");
  await expect(panel).toHaveAttribute("role", "menu");
  const count = await items.count();
  // Mark all read, Clear all, three rows of three items, See all.
  expect(count).toBe(12);
  await expect(items.first()).toBeFocused();
  // Items are out of the tab order: arrows move between them.
  await expect(items.nth(1)).toHaveAttribute("tabindex", "-1");
  await page.keyboard.press("ArrowDown");
  await expect(items.nth(1)).toBeFocused();
  await page.keyboard.press("ArrowDown");
  await expect(items.nth(2)).toBeFocused();
  await page.keyboard.press("ArrowUp");
  await expect(items.nth(1)).toBeFocused();
  await page.keyboard.press("End");
  await expect(items.last()).toBeFocused();
  await expect(items.last()).toHaveText("See all notifications");
  await page.keyboard.press("ArrowDown");
  await expect(items.first()).toBeFocused();
  await page.keyboard.press("ArrowUp");
  await expect(items.last()).toBeFocused();
  await page.keyboard.press("Home");
  await expect(items.first()).toBeFocused();

  // Escape closes it and focus goes back to the bell.
  await page.keyboard.press("Escape");
  await expect(panel).toBeHidden();
  await expect(bell).toHaveAttribute("aria-expanded", "false");
  await expect(bell).toBeFocused();

  // ArrowDown on the bell opens it on the first item too.
  await page.keyboard.press("ArrowDown");
  await expect(panel).toBeVisible();
  await expect(items.first()).toBeFocused();

  // A click outside closes it.
  await page.getByRole("heading", { level: 1 }).first().click();
  await expect(panel).toBeHidden();
  await expect(bell).toHaveAttribute("aria-expanded", "false");

  // Tab closes it and moves on.
  await bell.focus();
  await page.keyboard.press("Enter");
  await expect(items.first()).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(panel).toBeHidden();
  await expect(bell).toHaveAttribute("aria-expanded", "false");
});

test("the bell's badge and the tab title show one count, after opening and after live arrivals", async ({
  page,
  request,
  baseURL,
  consoleErrors,
}) => {
  const a = await api(request, baseURL);
  const user = await freshStudent(page, a, "onecount", 2);
  await live(page);
  const badge = page.getByTestId("bell-count");
  await expect(badge).toHaveText("2");
  await expect(page).toHaveTitle(/^\(2\) /);

  // Opening the bell sees both (they stay unread): badge and title clear together.
  await page.getByTestId("bell").click();
  await expect(page.getByTestId("bell-item")).toHaveCount(2);
  await expect(page.getByTestId("bell-item").first()).toHaveAttribute("data-unread", "true");
  await expect(badge).toBeHidden();
  await expect(page).toHaveTitle(/^[^(]/);
  await page.keyboard.press("Escape");

  // Live arrivals count up on both.
  await notify(a, user.id, "onecount live 1");
  await expect(badge).toHaveText("1");
  await expect(page).toHaveTitle(/^\(1\) /);
  await notify(a, user.id, "onecount live 2");
  await expect(badge).toHaveText("2");
  await expect(page).toHaveTitle(/^\(2\) /);

  // And a reload agrees with them.
  await page.reload();
  await hydrated(page);
  await expect(badge).toHaveText("2");
  await expect(page).toHaveTitle(/^\(2\) /);
});

test("at 390 px the bell's panel is on screen", async ({ page, request, baseURL, consoleErrors }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const a = await api(request, baseURL);
  await freshStudent(page, a, "phonebell", 2);
  await page.getByTestId("bell").click();
  const panel = page.getByTestId("bell-panel");
  await expect(panel).toBeVisible();
  const box = (await panel.boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(390);
  expect(box.y).toBeGreaterThanOrEqual(0);
  // Wide enough to read.
  expect(box.width).toBeGreaterThan(300);
  await expectNoSidewaysScroll(page, "the dashboard with the bell open");
});

const PAGES: Record<string, { email: string; paths: string[] }> = {
  // Demo users that no other spec signs in as; these checks only read.
  student: { email: "hana@studyhall.test", paths: ["/", "/learning", "/activity", "/notifications", "/profile"] },
  mentor: { email: "mentor.maya@studyhall.test", paths: ["/", "/activity", "/notifications", "/profile"] },
  admin: { email: DEMO_ADMIN, paths: ["/", "/admin/users", "/admin/tokens", "/activity", "/notifications", "/profile"] },
};

test("at 360 px no page scrolls sideways, for any role, even with a 300-character word", async ({
  browser,
  request,
  baseURL,
}) => {
  test.setTimeout(120_000);
  const a = await api(request, baseURL);
  const word = "Pneumonoultramicroscopicsilicovolcanoconiosis".repeat(7).slice(0, 300);
  const title = `Wide${"W".repeat(100)}${Date.now()}`;
  const res = await request.post(`${baseURL}/api/v1/announcements`, {
    headers: { authorization: `Bearer ${a.token}` },
    data: { title, body: `Before ${word} after.` },
  });
  expect(res.status(), await res.text()).toBe(201);

  for (const [role, { email, paths }] of Object.entries(PAGES)) {
    const context = await browser.newContext({ baseURL, viewport: { width: 360, height: 780 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await signIn(page, email, DEMO_PASSWORD);
    await expect(page).toHaveURL(/\/$/);
    for (const path of paths) {
      await page.goto(path);
      await hydrated(page);
      if (path === "/") await expect(page.getByText(title)).toBeVisible();
      await page.waitForLoadState("networkidle");
      await expectNoSidewaysScroll(page, `${role} ${path}`);
    }
    // The admin's role menus keep their labels on a phone (they once shrank to a chevron).
    if (role === "admin") {
      await page.goto("/admin/users");
      await hydrated(page);
      const select = page.locator('select[id^="role-"]:not([disabled])').first();
      // A usable menu (its longest role name readable), not a bare chevron.
      expect((await select.boundingBox())!.width).toBeGreaterThan(80);
    }
    expect(errors, `${role}: page errors`).toEqual([]);
    await context.close();
  }
});

test("the 404 page keeps the header and navigation for a signed-in user and answers 404", async ({
  page,
  request,
  baseURL,
  consoleErrors,
}) => {
  const a = await api(request, baseURL);
  await freshStudent(page, a, "lost", 0);
  const res = await page.goto("/no/such/page");
  expect(res!.status()).toBe(404);
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "This page does not exist" })).toBeVisible();
  const header = page.getByRole("banner");
  await expect(header.getByRole("link", { name: "Studyhall" })).toBeVisible();
  await expect(page.getByTestId("bell")).toBeVisible();
  await expect(page.getByTestId("user-menu")).toHaveText(/lost Student/);
  await header.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Learning" }).click();
  await expect(page).toHaveURL(/\/learning$/);

  // Signed out, it is still a 404 (without the signed-in frame).
  const anonymous = await request.get(`${baseURL}/no/such/page`);
  expect(anonymous.status()).toBe(404);
  expect(await anonymous.text()).not.toContain('data-testid="bell"');
});

// Screenshots for looking at, not asserting: SHELL_UI_SHOTS=1 writes them to /tmp/shots/.
test("shell screenshots at 390 and 1280 px, light and dark", async ({ browser, baseURL }) => {
  test.skip(!process.env.SHELL_UI_SHOTS, "set SHELL_UI_SHOTS=1 to write /tmp/shots/*.png");
  test.setTimeout(180_000);
  for (const theme of ["light", "dark"]) {
    for (const width of [390, 1280]) {
      const context = await browser.newContext({ baseURL, viewport: { width, height: 900 } });
      await context.addCookies([{ name: "theme", value: theme, url: baseURL! }]);
      const student = await context.newPage();
      await signIn(student, "hana@studyhall.test", DEMO_PASSWORD);
      await expect(student).toHaveURL(/\/$/);
      await hydrated(student);
      await student.getByTestId("bell").click();
      await expect(student.getByTestId("bell-panel")).toBeVisible();
      await student.waitForTimeout(300);
      await student.screenshot({ path: `/tmp/shots/dashboard-bell-${width}-${theme}.png` });
      await student.goto("/no/such/page");
      await hydrated(student);
      await student.screenshot({ path: `/tmp/shots/404-${width}-${theme}.png`, fullPage: true });
      await student.goto("/learning");
      await hydrated(student);
      await student.getByRole("button", { name: /^Edit session/ }).first().click();
      await student.screenshot({ path: `/tmp/shots/learning-${width}-${theme}.png`, fullPage: true });
      await student.goto("/profile");
      await hydrated(student);
      await student.screenshot({ path: `/tmp/shots/profile-${width}-${theme}.png`, fullPage: true });
      await context.close();

      const adminContext = await browser.newContext({ baseURL, viewport: { width, height: 900 } });
      await adminContext.addCookies([{ name: "theme", value: theme, url: baseURL! }]);
      const admin = await adminContext.newPage();
      await signIn(admin, DEMO_ADMIN, DEMO_PASSWORD);
      await expect(admin).toHaveURL(/\/$/);
      await admin.goto("/admin/users");
      await hydrated(admin);
      await admin.screenshot({ path: `/tmp/shots/admin-users-${width}-${theme}.png`, fullPage: width === 390 ? false : true });
      await admin.goto("/");
      await hydrated(admin);
      await admin.getByRole("button", { name: /^Edit announcement/ }).first().click();
      await admin.getByTestId("announcement-edit").scrollIntoViewIfNeeded();
      await admin.screenshot({ path: `/tmp/shots/announcement-edit-${width}-${theme}.png` });
      await admin.goto("/notifications");
      await hydrated(admin);
      await admin.getByTestId("compose").getByLabel("To", { exact: true }).selectOption("user");
      const picker = admin.getByTestId("compose").getByRole("combobox", { name: "Person" });
      await picker.fill("a");
      await admin.waitForTimeout(500);
      await picker.scrollIntoViewIfNeeded();
      await admin.screenshot({ path: `/tmp/shots/compose-picker-${width}-${theme}.png` });
      await adminContext.close();
    }
  }
});
