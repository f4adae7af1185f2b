// Study groups, typing, presence, offline sending and search in the browser, with two people who
// exist only for this spec (registered here, so no other spec shares their rooms): one starts a
// public group (its name full of markup, shown as text), the other finds and joins it; in the
// group's room typing shows and clears, a reply quotes and an edit shows, @ offers a name, who is online rises and falls, a message written offline is
// sent once when the network is back, search finds a message and opens the room at it, and the
// navigation's unread count rises and clears in two tabs of one person.
import { test, expect, hydrated, hydratedForm, uniqueEmail } from "./fixtures";
import type { Browser, Page } from "@playwright/test";

async function newPerson(browser: Browser, name: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/register");
  await hydratedForm(page);
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Email").fill(uniqueEmail("groups"));
  await page.getByLabel("Password").fill("correct horse battery staple");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/$/);
  await hydrated(page, 20_000);
  return page;
}

test("a public group is started, found and joined; typing, presence, offline sending and search", async ({ browser }) => {
  const tag = `g${Date.now()}`;
  const owner = await newPerson(browser, `Olga ${tag}`);
  const joiner = await newPerson(browser, `Jon ${tag}`);
  const errors: string[] = [];
  for (const p of [owner, joiner]) p.on("pageerror", (e) => errors.push(e.message));

  // Olga starts a group; a name of markup stays text.
  await owner.goto("/chat/groups");
  await hydrated(owner, 20_000);
  await expect(owner.getByTestId("my-groups")).toContainText("You are in no study group yet");
  const name = `<img src=x onerror="window.__xss=1"> Circle ${tag}`;
  await owner.getByLabel("Name").fill(name);
  await owner.getByLabel("Member limit").fill("3");
  await owner.getByRole("button", { name: "Start the group" }).click();
  await expect(owner.getByTestId("group-name")).toHaveText(name);
  await expect(owner.getByTestId("group-count")).toHaveText("1 of 3 members");
  expect(await owner.evaluate(() => (window as any).__xss)).toBeUndefined();

  // Jon finds it among the open groups and joins in one click, landing in its room.
  await joiner.goto("/chat/groups");
  await hydrated(joiner, 20_000);
  const card = joiner.getByTestId("open-groups").getByTestId("group-card").filter({ hasText: tag });
  await expect(card).toContainText("1 of 3 members");
  await card.getByRole("button", { name: `Join ${name}` }).click();
  await expect(joiner).toHaveURL(/\/chat\/\d+$/);
  const roomUrl = joiner.url();
  await hydrated(joiner, 20_000);
  await expect(joiner.getByTestId("room-name")).toHaveText(name);

  // Olga opens the room from her group's page; both are here now.
  await owner.reload();
  await hydrated(owner, 20_000);
  await expect(owner.getByTestId("group-count")).toHaveText("2 of 3 members");
  await owner.getByRole("link", { name: "Open the group's chat" }).click();
  await expect(owner.getByTestId("room-name")).toHaveText(name);
  await hydrated(owner, 20_000);
  await expect(joiner.getByTestId("room-presence")).toContainText("2 online");

  // Typing shows on the other side and clears when the message arrives.
  await owner.getByTestId("composer").pressSequentially("Hello ");
  await expect(joiner.getByTestId("typing")).toHaveText(`Olga ${tag} is typing…`);
  await owner.getByTestId("composer").pressSequentially(`zebra${tag}`);
  await owner.getByTestId("composer").press("Enter");
  await expect(joiner.getByTestId("message-body").filter({ hasText: `zebra${tag}` })).toHaveCount(1);
  await expect(joiner.getByTestId("typing")).toHaveText("");
  // Messages sit under their day's heading, in the viewer's zone.
  await expect(joiner.getByTestId("day-heading").last()).toHaveText("today");

  // Jon answers Olga's message, quoting it; Olga edits hers, and Jon sees it edited.
  const olgas = joiner.getByTestId("message").filter({ hasText: `zebra${tag}` });
  await olgas.getByRole("button", { name: `Reply to Olga ${tag}` }).click();
  await expect(joiner.getByTestId("replying")).toContainText(`zebra${tag}`);
  await joiner.getByTestId("composer").fill(`answer ${tag}`);
  await joiner.getByTestId("composer").press("Enter");
  const answer = owner.getByTestId("message").filter({ hasText: `answer ${tag}` });
  await expect(answer.getByTestId("quote")).toContainText(`Olga ${tag}: Hello zebra${tag}`);
  const mine = owner.getByTestId("message").filter({ hasText: `zebra${tag}` }).first();
  await mine.getByRole("button", { name: "Edit your message" }).click();
  await owner.getByTestId("edit-box").fill(`Hello again zebra${tag}`);
  await owner.getByTestId("edit-box").press("Enter");
  await expect(joiner.getByTestId("message-body").filter({ hasText: `Hello again zebra${tag}` })).toHaveCount(1);
  await expect(joiner.getByTestId("message").filter({ hasText: `Hello again zebra${tag}` })).toContainText("(edited");

  // Mentioning: "@ol" offers Olga; Enter takes her name, the next Enter sends.
  await joiner.getByTestId("composer").pressSequentially("@ol");
  await expect(joiner.getByTestId("mention-list").getByRole("option")).toHaveText([`Olga ${tag}`]);
  await joiner.getByTestId("composer").press("Enter");
  await expect(joiner.getByTestId("composer")).toHaveValue(`@Olga ${tag} `);
  await expect(joiner.getByTestId("mention-list")).toBeHidden();
  await joiner.getByTestId("composer").pressSequentially("see page 4");
  await joiner.getByTestId("composer").press("Enter");
  await expect(owner.getByTestId("message-body").filter({ hasText: `@Olga ${tag} see page 4` })).toHaveCount(1);

  // Offline: the message waits, then goes once when the network is back.
  await joiner.context().setOffline(true);
  await joiner.getByTestId("composer").fill(`offline ${tag}`);
  await joiner.getByTestId("composer").press("Enter");
  await expect(joiner.getByTestId("pending-waiting")).toBeVisible();
  await joiner.context().setOffline(false);
  await expect(owner.getByTestId("message-body").filter({ hasText: `offline ${tag}` })).toHaveCount(1, { timeout: 20_000 });
  await expect(joiner.getByTestId("pending")).toHaveCount(0, { timeout: 20_000 });
  await expect(joiner.getByTestId("message-body").filter({ hasText: `offline ${tag}` })).toHaveCount(1);
  // Olga's open room read it: her navigation shows nothing unread.
  await expect(owner.getByTestId("chat-unread")).toHaveCount(0);

  // Search finds Olga's word for Jon, marked, and opens the room at that message.
  await joiner.goto("/chat");
  await hydrated(joiner, 20_000);
  await joiner.getByTestId("chat-search").fill(`ZEBRA${tag}`);
  await joiner.getByTestId("chat-search").press("Enter");
  const hit = joiner.getByTestId("search-hit");
  await expect(hit).toHaveCount(1);
  await expect(hit.locator("mark")).toHaveText(`zebra${tag}`);
  await hit.click();
  await expect(joiner.locator("[data-testid=message][aria-current=true]")).toContainText(`zebra${tag}`);

  // The navigation's unread count rises in both of Olga's tabs and clears in both when one reads.
  await owner.goto("/chat/groups");
  await hydrated(owner, 20_000);
  const second = await owner.context().newPage();
  second.on("pageerror", (e) => errors.push(e.message));
  await second.goto("/learning");
  await hydrated(second, 20_000);
  await joiner.goto(roomUrl);
  await hydrated(joiner, 20_000);
  await joiner.getByTestId("composer").fill(`badge ${tag}`);
  await joiner.getByTestId("composer").press("Enter");
  await expect(owner.getByTestId("chat-unread")).toHaveText("1 unread");
  await expect(second.getByTestId("chat-unread")).toHaveText("1 unread");
  await owner.goto(roomUrl);
  await expect(owner.getByTestId("message-body").filter({ hasText: `badge ${tag}` })).toBeVisible();
  await expect(owner.getByTestId("chat-unread")).toHaveCount(0);
  await expect(second.getByTestId("chat-unread")).toHaveCount(0);
  // Jon closes Studyhall: Olga sees one fewer online.
  await joiner.close();
  await expect(owner.getByTestId("room-presence")).toContainText("1 online");
  expect(errors).toEqual([]);
  await owner.context().close();
  await joiner.context().close();
});

test("the groups page fits 390 px in dark mode and says what to do when empty", async ({ browser }) => {
  const page = await newPerson(browser, "Narrow Nia");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto("/chat/groups");
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Study groups", level: 1 })).toBeVisible();
  await expect(page.getByRole("button", { name: "Start the group" })).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  // Refused with the field's reason, and the form keeps what was typed.
  await page.getByLabel("Member limit").fill("99");
  await page.getByRole("button", { name: "Start the group" }).click();
  await expect(page.getByText("A group has room for 2 to 50 members.")).toBeVisible();
  await expect(page.getByText("This cannot be empty.")).toBeVisible();
  await expect(page.getByLabel("Member limit")).toHaveValue("99");
  await page.screenshot({ path: "test-results/groups-390-dark.png", fullPage: true });
  await page.context().close();
});
