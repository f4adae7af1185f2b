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

test("a double click on Log session logs one session; the form clears, keeps its date and confirms", async ({
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

test("deleting a goal asks first: Cancel keeps it, Delete goal removes it and says so", async ({ page }) => {
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

test("editing a session saves in place and says so; another row's open edit form stays open", async ({ page }) => {
  await signIn(page, "farah@studyhall.test", DEMO_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/learning");
  await hydrated(page);
  const form = page.getByTestId("log-form");
  const stamp = Date.now();
  for (const topic of [`Row A ${stamp}`, `Row B ${stamp}`]) {
    await form.getByLabel("Topic or skill").fill(topic);
    await form.getByRole("button", { name: "Log session" }).click();
    await expect(page.getByTestId("session-row").filter({ hasText: topic })).toHaveCount(1);
  }
  const rowA = page.getByTestId("session-row").filter({ hasText: `Row A ${stamp}` });
  const rowB = page.getByTestId("session-row").filter({ hasText: `Row B ${stamp}` });
  const idA = await rowA.getAttribute("data-session-id");
  const idB = await rowB.getAttribute("data-session-id");
  await rowA.getByRole("button", { name: /^Edit session/ }).click();
  await rowB.getByRole("button", { name: /^Edit session/ }).click();
  const editA = page.locator(`[data-session-id="${idA}"]`).getByTestId("edit-form");
  const editB = page.locator(`[data-session-id="${idB}"]`).getByTestId("edit-form");
  await editA.getByLabel("Topic or skill").fill(`Half-typed ${stamp}`);
  await editB.getByLabel("Topic or skill").fill(`Row B edited ${stamp}`);
  await editB.getByRole("button", { name: "Save" }).click();

  // B's own saved event arrives live; B closes and confirms, A is untouched and keeps what was typed.
  await expect(page.getByTestId("status-message")).toHaveText("Session saved");
  await expect(page.locator(`[data-session-id="${idB}"]`)).toContainText(`Row B edited ${stamp}`);
  await expect(editB).toHaveCount(0);
  await expect(editA.getByLabel("Topic or skill")).toHaveValue(`Half-typed ${stamp}`);
  await editA.getByRole("button", { name: "Cancel" }).click();
  await expect(page.locator(`[data-session-id="${idA}"]`)).toContainText(`Row A ${stamp}`);
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
