// Times are shown in the viewer's zone (Pacific/Kiritimati, UTC+14, is a day ahead of UTC for ten
// hours of every day), with the exact time on hover, the same text from the server and the browser,
// and they tick.
import { test, expect, hydrated, hydratedForm, signIn, uniqueEmail, DEMO_PASSWORD } from "./fixtures";
import type { Page } from "@playwright/test";

const ZONE = "Pacific/Kiritimati";
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

type Shown = { datetime: string; title: string; text: string };

/** The wall clock of an instant in UTC+14, written independently of the app's Rust. */
function kiritimati(iso: string) {
  const d = new Date(Date.parse(iso) + 14 * 3600_000);
  const hm = `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
  return {
    title: `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${hm} ${ZONE} (UTC+14:00)`,
    hm,
    weekday: WEEKDAYS[d.getUTCDay()].slice(0, 3),
    dayMonth: `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()].slice(0, 3)}`,
  };
}

/** Checks that a time's title and text both read in UTC+14. */
function expectInZone(t: Shown) {
  const local = kiritimati(t.datetime);
  expect(t.title, t.datetime).toBe(local.title);
  const m = t.text.match(/^(?:today|yesterday|tomorrow|(\w{3})) (\d\d:\d\d)$/);
  if (m) {
    expect(m[2], t.text).toBe(local.hm);
    if (m[1]) expect(m[1], t.text).toBe(local.weekday);
  } else if (!/^(just now|\d+ min ago|in \d+ min)$/.test(t.text)) {
    expect(t.text.startsWith(local.dayMonth), `${t.text} for ${t.datetime}`).toBe(true);
  }
}

/** Every `<time>` with a title in server-rendered HTML (hydration markers stripped). */
function timesInHtml(html: string): Shown[] {
  return [...html.matchAll(/<time\b([^>]*)>(.*?)<\/time>/gs)]
    .map(([, attrs, inner]) => ({
      datetime: attrs.match(/datetime="([^"]*)"/)?.[1] ?? "",
      title: attrs.match(/title="([^"]*)"/)?.[1] ?? "",
      text: inner.replace(/<!--.*?-->|<!>/gs, "").trim(),
    }))
    .filter((t) => t.title !== "");
}

async function timesOnPage(page: Page): Promise<Shown[]> {
  return page.locator("time[title]").evaluateAll((els) =>
    els.map((e) => ({ datetime: e.getAttribute("datetime") ?? "", title: e.getAttribute("title") ?? "", text: (e.textContent ?? "").trim() })),
  );
}

async function setZone(page: Page, zone: string) {
  await page.goto("/profile");
  await hydrated(page);
  const select = page.getByLabel("Time zone");
  await expect(select.locator(`option[value="${zone}"]`)).toHaveCount(1);
  await select.selectOption(zone);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
}

test("times read in the viewer's zone, the same from the server and the browser", async ({ page, consoleErrors }) => {
  // Lucia is no other test's: her zone can change here (and goes back at the end).
  await signIn(page, "lucia@studyhall.test", DEMO_PASSWORD);
  await hydrated(page);
  const hydrationWarnings: string[] = [];
  page.on("console", (msg) => {
    if (/hydrat/i.test(msg.text())) hydrationWarnings.push(`${msg.type()}: ${msg.text()}`);
  });
  try {
    await setZone(page, ZONE);
    // Saving applies at once to the times already on the page, without a reload.
    const signedIn = page.getByRole("region", { name: "Where you are signed in" }).locator("time").first();
    await expect(signedIn).toHaveAttribute("title", new RegExp(`${ZONE} \\(UTC\\+14:00\\)$`));

    // Four weeks of history: yesterday, weekdays and dates, as the server renders them.
    const html = await (await page.request.get("/activity")).text();
    const fromServer = timesInHtml(html);
    expect(fromServer.length, "times on the server-rendered activity page").toBeGreaterThan(10);
    fromServer.forEach(expectInZone);
    expect(fromServer.some((t) => t.text.startsWith("yesterday") || /^\w{3} \d\d:\d\d$/.test(t.text))).toBe(true);

    // The same page rendered by the browser alone (a client-side navigation) says the same.
    await page.goto("/");
    await hydrated(page);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Activity" }).click();
    await expect(page.getByTestId("feed-item").first()).toBeVisible();
    await expect.poll(async () => (await timesOnPage(page)).length).toBeGreaterThanOrEqual(fromServer.length);
    const inBrowser = new Map((await timesOnPage(page)).map((t) => [t.datetime + t.title, t]));
    for (const t of fromServer) {
      const b = inBrowser.get(t.datetime + t.title);
      expect(b, `browser renders ${t.datetime} as the server did`).toBeDefined();
      // Minutes can tick between the two renders; anything older reads the same.
      if (!/min|just now/.test(t.text)) expect(b!.text).toBe(t.text);
    }

    // A full load hydrates with no warning and keeps the server's text.
    await page.reload();
    await hydrated(page);
    const hydratedTimes = await timesOnPage(page);
    hydratedTimes.forEach(expectInZone);
    expect(hydrationWarnings).toEqual([]);
  } finally {
    await setZone(page, "Europe/Rome");
  }
});

test("relative times tick on one page clock", async ({ page, consoleErrors }) => {
  await page.clock.install();
  await page.goto("/register");
  await hydratedForm(page);
  await page.getByLabel("Your name").fill("Tess Ticks");
  await page.getByLabel("Email").fill(uniqueEmail("tick"));
  await page.getByLabel("Password").fill("a long enough password");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/$/);
  await setZone(page, ZONE);

  await page.reload();
  await hydrated(page);
  // This browser's session was active a moment ago.
  const lastActive = page.getByRole("region", { name: "Where you are signed in" }).locator("time").first();
  await expect(lastActive).toHaveText("just now");
  const title = await lastActive.getAttribute("title");
  expectInZone({ datetime: (await lastActive.getAttribute("datetime"))!, title: title!, text: "just now" });

  await page.clock.fastForward(61_000);
  await expect(lastActive).toHaveText("1 min ago");
  await expect(lastActive).toHaveAttribute("title", title!);
});
