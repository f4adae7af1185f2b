// Pages other than the dashboard are lazy routes: each ships as its own WASM chunk (`--split`).
import { test, expect, hydratedForm, signIn, DEMO_ADMIN, DEMO_PASSWORD } from "./fixtures";

const LAZY_PAGES = [
  { link: "Activity", path: "/activity", heading: "Activity", chunk: "activity_route" },
  { link: "Notifications", path: "/notifications", heading: "Notifications", chunk: "notifications_route" },
  { link: "Users", path: "/admin/users", heading: "Users", chunk: "admin_users_route" },
  { link: "API tokens", path: "/admin/tokens", heading: "API tokens", chunk: "api_tokens_route" },
];

test("the dashboard loads no page chunks; each page's chunk loads when it is first shown", async ({
  page,
  consoleErrors,
}) => {
  const chunks: string[] = [];
  page.on("request", (request) => {
    const name = new URL(request.url()).pathname;
    if (/^\/pkg\/(split_|chunk_)/.test(name)) chunks.push(name);
  });
  await signIn(page, DEMO_ADMIN, DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  chunks.length = 0;
  await page.reload();
  await hydratedForm(page);
  await expect(page.getByRole("heading", { name: /^Welcome, / })).toBeVisible();
  expect(chunks, "chunks fetched by the dashboard").toEqual([]);

  // A marker on the window survives client-side navigation and is gone after a full load.
  await page.evaluate(() => ((window as any).__same_document = true));
  const nav = page.getByRole("banner").getByRole("navigation", { name: "Main" });
  for (const { link, path, heading, chunk } of LAZY_PAGES) {
    await nav.getByRole("link", { name: link, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${path}$`));
    await expect(page.getByRole("heading", { level: 1, name: heading, exact: true })).toBeVisible();
    expect(chunks.some((c) => c.includes(chunk)), `${chunk} fetched`).toBe(true);
  }
  expect(await page.evaluate(() => (window as any).__same_document)).toBe(true);

  // Back to a page already shown: its chunk is not fetched again.
  const fetched = chunks.length;
  await nav.getByRole("link", { name: "Activity", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Activity", exact: true })).toBeVisible();
  expect(chunks.length).toBe(fetched);
});

test("a lazy page opened directly hydrates and works", async ({ page, consoleErrors }) => {
  await signIn(page, DEMO_ADMIN, DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/profile");
  await hydratedForm(page);
  const password = page.getByLabel("New password");
  await expect(password).toBeVisible();
  // Inline validation runs in the browser, so the field turns invalid only if the page hydrated.
  await password.fill("short");
  await password.blur();
  await expect(password).toHaveAttribute("aria-invalid", "true");
});
