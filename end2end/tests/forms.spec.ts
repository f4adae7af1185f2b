import { test, expect, hydrated, signIn, DEMO_PASSWORD } from "./fixtures";
import type { Page } from "@playwright/test";

// Demo students only this spec uses: Farah logs sessions, Kofi sets and deletes goals.

/** The student's session count, from the REST snapshot (the list itself shows a page at a time). */
async function sessionCount(page: Page): Promise<number> {
  const res = await page.request.get("/api/v1/learning");
  expect(res.status()).toBe(200);
  return (await res.json()).analytics.sessions;
}

/** A day two days back, `YYYY-MM-DD`: in the past in every zone, and not the form's default. */
function twoDaysAgo(): string {
  return new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
}

// fixme (issue 24, open): a live change to the log rebuilds the learning page, remounting its forms before
// the save answers, so the form keeps its values and the confirmation never shows. A memo of the page's
// frame fixed it but broke hydration; the fix is the next step.
test.fixme("a double click on Log session logs one session; the form clears, keeps its date and confirms", async ({
  page,
}) => {
  await signIn(page, "farah@studyhall.test", DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/learning");
  await hydrated(page);
  const form = page.getByTestId("log-form");
  const before = await sessionCount(page);
  const topic = `Double click ${Date.now()}`;
  const day = twoDaysAgo();
  await form.getByLabel("Date").fill(day);
  await form.getByLabel("Hours").fill("0");
  await form.getByLabel("Minutes").fill("25");
  await form.getByLabel("Topic or skill").fill(topic);
  await form.getByRole("button", { name: "Log session" }).dblclick();

  await expect(page.getByTestId("status-message")).toHaveText("Session logged");
  await expect(form.getByLabel("Topic or skill")).toHaveValue("");
  await expect(form.getByLabel("Minutes")).toHaveValue("0");
  await expect(form.getByLabel("Date")).toHaveValue(day);
  const rows = page.getByTestId("session-row").filter({ hasText: topic });
  await expect(rows).toHaveCount(1);
  // Give a second request every chance to land before counting.
  await page.waitForTimeout(750);
  await expect(rows).toHaveCount(1);
  expect(await sessionCount(page)).toBe(before + 1);

  // Two submits in the same instant (no time for the button to be disabled) still log once: they
  // carry the same request key. The next session after that is a new one (the key was renewed).
  const again = `Same instant ${Date.now()}`;
  await form.getByLabel("Topic or skill").fill(again);
  await form.evaluate((f: HTMLFormElement) => {
    f.requestSubmit();
    f.requestSubmit();
  });
  await expect(page.getByTestId("session-row").filter({ hasText: again })).toHaveCount(1);
  await page.waitForTimeout(750);
  await expect(page.getByTestId("session-row").filter({ hasText: again })).toHaveCount(1);
  expect(await sessionCount(page)).toBe(before + 2);
  await expect(page.getByTestId("learning-summary")).not.toContainText(/\b1 (days|sessions)\b/);
});

// fixme (issue 24, open): a live change to the log rebuilds the learning page, remounting its forms before
// the save answers, so the form keeps its values and the confirmation never shows. A memo of the page's
// frame fixed it but broke hydration; the fix is the next step.
test.fixme("deleting a goal asks first: Cancel keeps it, Delete goal removes it and says so", async ({ page }) => {
  await signIn(page, "kofi@studyhall.test", DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/learning");
  await hydrated(page);
  const title = `Keep me ${Date.now()}`;
  const goalForm = page.getByTestId("goal-form");
  await goalForm.getByLabel("New goal").fill(title);
  await goalForm.getByRole("button", { name: "Set goal" }).click();
  await expect(page.getByTestId("status-message")).toHaveText("Goal set");
  await expect(goalForm.getByLabel("New goal")).toHaveValue("");
  const row = page.getByTestId("goal-row").filter({ hasText: title });
  await expect(row).toHaveCount(1);

  const del = page.getByRole("button", { name: `Delete goal ${title}` });
  await del.click();
  const dialog = page.getByTestId("confirm-dialog");
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText(title);
  await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(del).toBeFocused();
  await page.waitForTimeout(500);
  await expect(row).toHaveCount(1);
  // Escape cancels as well.
  await del.click();
  await expect(dialog).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(row).toHaveCount(1);

  await del.click();
  await dialog.getByRole("button", { name: "Delete goal" }).click();
  await expect(row).toHaveCount(0);
  await expect(page.getByTestId("status-message")).toHaveText("Goal deleted");
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("goal-row").filter({ hasText: title })).toHaveCount(0);
});

test("on a phone, goals and skills come before the session list, with no sideways scroll", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, "kofi@studyhall.test", DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/learning");
  await hydrated(page);
  const y = async (id: string) => (await page.locator(`#${id}`).boundingBox())!.y;
  expect(await y("log-heading")).toBeLessThan(await y("goals-heading"));
  expect(await y("goals-heading")).toBeLessThan(await y("skills-heading"));
  expect(await y("skills-heading")).toBeLessThan(await y("sessions-heading"));
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(wide).toBeLessThanOrEqual(390);
  // On a wide screen the goals sit beside the log form.
  await page.setViewportSize({ width: 1280, height: 900 });
  expect(Math.abs((await y("goals-heading")) - (await y("log-heading")))).toBeLessThan(5);
});
