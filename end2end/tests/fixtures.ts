import { test as base, expect, Page } from "@playwright/test";

export const DEMO_PASSWORD = "studyhall-demo";
export const DEMO_ADMIN = "admin@studyhall.test";

type Fixtures = { consoleErrors: string[] };

// Every test runs against the server that global-setup started, and fails on any console error
// (a Content-Security-Policy violation or a failed hydration shows up there).
export const test = base.extend<Fixtures>({
  baseURL: async ({}, use) => {
    await use(process.env.STUDYHALL_BASE_URL);
  },
  consoleErrors: async ({ page }, use) => {
    const errors: string[] = [];
    page.on("console", (msg) => {
      // Expected refusals (a wrong password is a 401) are logged by the browser as failed loads.
      const expectedRefusal = /Failed to load resource: the server responded with a status of 4\d\d/;
      if (msg.type() === "error" && !expectedRefusal.test(msg.text())) errors.push(msg.text());
    });
    page.on("pageerror", (err) => errors.push(err.message));
    await use(errors);
    expect(errors, "browser console errors").toEqual([]);
  },
});

export { expect };

/** Waits until the WASM app has hydrated (the theme toggle learns its state only in the browser).
 * A page that never hydrates fails here whatever the wait; `timeout` is for specs that load many
 * pages at once on a busy 2-core machine (each compiles the WASM). */
export async function hydrated(page: Page, timeout?: number) {
  await expect(page.getByTestId("theme-toggle")).toHaveAttribute("aria-pressed", /true|false/, { timeout });
}

export function uniqueEmail(prefix: string) {
  return `${prefix}.${Date.now()}.${Math.floor(Math.random() * 1e6)}@example.com`;
}

export async function signIn(page: Page, email: string, password: string) {
  await page.goto("/login");
  await hydratedForm(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Pages without the header: wait for the form's hydration (its submit button becomes interactive). */
export async function hydratedForm(page: Page) {
  await page.waitForFunction(() => (window as any).__studyhall_hydrated === true);
}
