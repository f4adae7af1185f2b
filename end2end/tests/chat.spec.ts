// Chat in the browser: the room list and a conversation, a message arriving live in another person's
// open room, Markdown rendered and typed HTML shown as text (no script runs), the new-messages
// divider and unread count for a room opened later, a file attached (and one refused), presence away
// and back, and the page at 390 px.
import { test, expect, hydrated, signIn, DEMO_PASSWORD } from "./fixtures";

const ANA = "ana@studyhall.test";
const MAYA = "mentor.maya@studyhall.test";

async function openRoom(page, name: string) {
  await page.goto("/chat");
  await hydrated(page);
  await page.getByTestId("room-list").getByRole("link", { name: new RegExp(`^${name}`) }).click();
  await expect(page.getByTestId("room-name")).toHaveText(name);
}

/** Ana and her mentor Maya, each signed in in their own browser context with their room open. */
async function anaAndMaya(browser) {
  const anaContext = await browser.newContext();
  const mayaContext = await browser.newContext();
  const ana = await anaContext.newPage();
  const maya = await mayaContext.newPage();
  await signIn(ana, ANA, DEMO_PASSWORD);
  await hydrated(ana);
  await signIn(maya, MAYA, DEMO_PASSWORD);
  await hydrated(maya);
  await openRoom(ana, "Maya Mentor");
  await openRoom(maya, "Ana Souza");
  return { ana, maya, anaContext, mayaContext };
}

test("a message arrives live in the other person's open room, rendered safely", async ({ browser, consoleErrors }) => {
  const { ana, maya, anaContext, mayaContext } = await anaAndMaya(browser);
  // The mentor's demo greeting is there for both.
  await expect(ana.getByTestId("message-body").filter({ hasText: "How is the week going?" })).toBeVisible();

  const tag = `m${Date.now()}`;
  const composer = ana.getByTestId("composer");
  await composer.fill(`**${tag}** and <img src=x onerror="window.__xss=1"> [docs](javascript:alert(1))`);
  await composer.press("Enter");
  const mine = ana.getByTestId("message-body").filter({ hasText: tag });
  await expect(mine).toBeVisible();
  await expect(composer).toHaveValue("");

  // Live in Maya's open room, once, with bold rendered and the HTML shown as the characters typed.
  const theirs = maya.getByTestId("message-body").filter({ hasText: tag });
  await expect(theirs).toHaveCount(1);
  await expect(theirs.locator("strong")).toHaveText(tag);
  await expect(theirs).toContainText("<img src=x");
  await expect(theirs.locator("img")).toHaveCount(0);
  await expect(theirs.locator("a[href^='javascript']")).toHaveCount(0);
  expect(await maya.evaluate(() => (window as any).__xss)).toBeUndefined();

  // Shift+Enter is a new line, not a send.
  const lines = `l${Date.now()}`;
  await composer.fill(`first line ${lines}`);
  await composer.press("Shift+Enter");
  await composer.type(`second line ${lines}`);
  await expect(composer).toHaveValue(`first line ${lines}\nsecond line ${lines}`);
  await composer.press("Enter");
  await expect(maya.getByTestId("message-body").filter({ hasText: `second line ${lines}` })).toHaveCount(1);
  // Maya's open room read it: Ana sees "Seen" under her last message, live.
  await expect(ana.getByTestId("seen")).toBeVisible();

  // Ana deletes her message: a tombstone in both rooms.
  const row = ana.getByTestId("message").filter({ hasText: tag });
  await row.getByRole("button", { name: "Delete your message" }).click();
  await expect(maya.getByTestId("message-body").filter({ hasText: tag })).toHaveCount(0);
  await expect(maya.getByTestId("tombstone").first()).toBeVisible();
  await anaContext.close();
  await mayaContext.close();
});

// A 1×1 PNG.
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000a49444154789c63000100000500010d0a2db40000000049454e44ae426082",
  "hex",
);

async function setVisibility(page, state: "hidden" | "visible") {
  await page.evaluate((s) => {
    Object.defineProperty(document, "visibilityState", { value: s, configurable: true });
    Object.defineProperty(document, "hidden", { value: s === "hidden", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  }, state);
}

test("a file attached is shown to the other person; a file of the wrong type is refused; presence goes away and back", async ({ browser, consoleErrors }) => {
  const { ana, maya, anaContext, mayaContext } = await anaAndMaya(browser);

  // Away: Maya's tab is hidden, Ana's header says so; visible again, she is online.
  const peer = ana.getByTestId("peer-presence");
  await expect(peer).toHaveAttribute("data-here", "true");
  await expect(peer).toContainText("Online");
  await setVisibility(maya, "hidden");
  await expect(peer).toHaveAttribute("data-away", "true");
  await expect(peer).toContainText("Away");
  await setVisibility(maya, "visible");
  await expect(peer).toHaveAttribute("data-away", "false");
  await expect(peer).toContainText("Online");

  // A text file dressed as a PNG is refused by its content, and says so.
  const input = ana.getByTestId("attach-input");
  await input.setInputFiles({ name: "fake.png", mimeType: "image/png", buffer: Buffer.from("not a picture at all") });
  await expect(ana.getByTestId("picked-file").filter({ hasText: "fake.png" })).toContainText("Attach an image");
  await ana.getByRole("button", { name: "Remove fake.png" }).click();
  await expect(ana.getByTestId("picked-file")).toHaveCount(0);

  // A real one goes with the message and shows inline for Maya, loaded from the server.
  const tag = `f${Date.now()}`;
  await input.setInputFiles({ name: `${tag}.png`, mimeType: "image/png", buffer: PNG });
  await expect(ana.getByTestId("picked-file").filter({ hasText: `${tag}.png` })).toContainText(`${PNG.length} B`);
  await ana.getByTestId("composer").fill(`picture ${tag}`);
  await ana.getByTestId("composer").press("Enter");
  const row = maya.getByTestId("message").filter({ hasText: `picture ${tag}` });
  const image = row.getByTestId("attachment-image");
  await expect(image).toHaveAttribute("alt", `${tag}.png`);
  await expect(row).toContainText("1 × 1");
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(1);
  await expect(ana.getByTestId("picked-file")).toHaveCount(0);
  await anaContext.close();
  await mayaContext.close();
});

test("a room opened later shows its unread count and where the new messages begin", async ({ browser, consoleErrors }) => {
  const mayaContext = await browser.newContext();
  const anaContext = await browser.newContext();
  const maya = await mayaContext.newPage();
  const ana = await anaContext.newPage();
  await signIn(maya, MAYA, DEMO_PASSWORD);
  await hydrated(maya);
  // Ana reads the cohort room first, so only what follows is new to her.
  await signIn(ana, ANA, DEMO_PASSWORD);
  await hydrated(ana);
  await openRoom(ana, "Spring Cohort");
  await ana.goto("/");
  await hydrated(ana);
  await openRoom(maya, "Spring Cohort");
  const tag = `u${Date.now()}`;
  for (const n of [1, 2]) {
    await maya.getByTestId("composer").fill(`${tag} note ${n}`);
    await maya.getByTestId("composer").press("Enter");
    await expect(maya.getByTestId("message-body").filter({ hasText: `${tag} note ${n}` })).toBeVisible();
  }
  await ana.goto("/chat");
  await hydrated(ana);
  const link = ana.getByTestId("room-list").getByRole("link", { name: /^Spring Cohort/ });
  await expect(link).toHaveAccessibleName(/2 unread/);
  await link.click();
  const divider = ana.getByTestId("new-divider");
  await expect(divider).toBeVisible();
  // The divider sits right above the first of the two.
  const next = ana.locator("[data-testid=new-divider] + article");
  await expect(next).toContainText(`${tag} note 1`);
  // Opening the room read it: the count is gone from the list.
  await expect(link).not.toHaveAccessibleName(/unread/);
  await mayaContext.close();
  await anaContext.close();
});

test("chat fits a 390 px screen as two screens, in dark mode too", async ({ page, consoleErrors }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: "dark" });
  await signIn(page, ANA, DEMO_PASSWORD);
  await hydrated(page);
  await page.goto("/chat");
  await hydrated(page);
  await expect(page.getByTestId("room-list")).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  // Not the cohort room: the unread test reads Ana's count there, in parallel.
  await page.getByTestId("room-list").getByRole("link", { name: /^Maya Mentor/ }).click();
  await expect(page.getByTestId("room-list")).toBeHidden();
  await expect(page.getByTestId("composer")).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.screenshot({ path: "test-results/chat-390-dark.png", fullPage: true });
  await page.getByRole("link", { name: "Back to your rooms" }).click();
  await expect(page.getByTestId("room-list")).toBeVisible();
});
