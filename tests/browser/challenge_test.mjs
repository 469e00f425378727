// The shield's challenge page in a real browser: Debian's Chromium, driven by playwright-core
// (no test runner: plain assertions, exit 0 on success, 1 on the first failure).
//
//   node challenge_test.mjs BASE_URL CONTENT_TITLE
//
// BASE_URL is a refuge serve node in under-attack mode that does not exempt 127.0.0.1 and
// serves a site at "/" whose index.html has the title CONTENT_TITLE. Two tests:
//   1. with JavaScript: the first document is the challenge page ("One moment", 503 with
//      Refuge-Challenge), the browser solves the proof of work by itself and reaches the
//      content within 30 s; the refuge_clearance cookie is set, HttpOnly (the page's script
//      cannot read it); a second navigation gets the content at once (no challenge).
//   2. without JavaScript: the <noscript> meta refresh leads through the wait URL to the
//      content after nojs_delay_seconds; then the same checks on the cookie and a second
//      navigation.
// Run by tests/integration/shield_browser.sh, which starts the node (ctest browser_challenge).
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const [baseUrl, contentTitle] = process.argv.slice(2);
if (!baseUrl || !contentTitle) {
  console.error('usage: node challenge_test.mjs BASE_URL CONTENT_TITLE');
  process.exit(2);
}
const home = baseUrl.replace(/\/$/, '') + '/';
const kArrivalTimeoutMs = 30_000;

// Flags known to work with Debian's Chromium headless on the project's machines; Playwright
// adds --headless, --no-sandbox (chromiumSandbox: false) and a fresh profile in $TMPDIR.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  chromiumSandbox: false,
  args: ['--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-proxy-server'],
  timeout: 60_000,
});

// Every main-frame document response of `page`, in order: {status, url, challenge}.
function recordDocuments(page) {
  const documents = [];
  page.on('response', (response) => {
    const request = response.request();
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
      documents.push({
        status: response.status(),
        url: response.url(),
        challenge: response.headers()['refuge-challenge'] || '',
      });
    }
  });
  return documents;
}

// Waits for the navigation that brings the content: a 200 document at `home`.
function contentArrival(page) {
  return page.waitForResponse(
    (r) => r.request().isNavigationRequest() && r.url() === home && r.status() === 200,
    { timeout: kArrivalTimeoutMs });
}

async function checkClearanceCookie(context, what) {
  const cookies = await context.cookies(home);
  const clearance = cookies.find((c) => c.name === 'refuge_clearance');
  assert.ok(clearance, `${what}: the refuge_clearance cookie is set (cookies: ${JSON.stringify(cookies)})`);
  assert.match(clearance.value, /^[0-9a-f]{8}\.[0-9a-f]{32}$/, `${what}: the cookie's value`);
  assert.equal(clearance.httpOnly, true, `${what}: the cookie is HttpOnly`);
  assert.equal(clearance.path, '/', `${what}: the cookie's path`);
  assert.equal(clearance.sameSite, 'Lax', `${what}: the cookie's SameSite`);
  const lifetime = clearance.expires - Date.now() / 1000;
  assert.ok(lifetime > 3000 && lifetime <= 3601, `${what}: the cookie lasts clearance_seconds (${lifetime} s)`);
}

// Waits (10 s at most) until the displayed document has the title `want` (page.title() and
// not waitForFunction: the latter needs the page's JavaScript).
async function waitForTitle(page, want, what) {
  const deadline = Date.now() + 10_000;
  let title = '';
  while (Date.now() < deadline) {
    title = await page.title().catch(() => '');  // between two documents
    if (title === want) {
      await page.waitForLoadState('load');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(title, want, `${what}: the title of the content`);
}

// A second navigation: the content at once, no challenge on the way. A new URL (the query
// is ignored by the node), so that the browser asks the node rather than its cache.
async function checkSecondVisit(page, documents, what) {
  documents.length = 0;
  const url = `${home}?visit=${what}`;
  const response = await page.goto(url, { waitUntil: 'load' });
  assert.equal(response.status(), 200, `${what}: second navigation status`);
  assert.ok(await response.serverAddr(), `${what}: the second navigation reached the node`);
  assert.equal(await page.title(), contentTitle, `${what}: second navigation title`);
  assert.deepEqual(documents.map((d) => d.status), [200], `${what}: documents of the second navigation`);
  assert.equal(page.url(), url, `${what}: the second navigation's URL`);
}

async function withJavaScript() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const documents = recordDocuments(page);
  // The title of every document the tab displays, noted in its sessionStorage (which
  // outlives same-origin navigations) when the document is parsed, or when it is left if
  // that comes first: the challenge's script may solve it and leave before DOMContentLoaded.
  await context.addInitScript(() => {
    let noted = false;
    const note = () => {
      if (noted) return;
      noted = true;
      const titles = JSON.parse(sessionStorage.getItem('refuge-test-titles') || '[]');
      titles.push(document.title);
      sessionStorage.setItem('refuge-test-titles', JSON.stringify(titles));
    };
    document.addEventListener('DOMContentLoaded', note);
    window.addEventListener('pagehide', note);
  });
  const started = Date.now();
  const arrival = contentArrival(page);
  const first = await page.goto(home, { waitUntil: 'commit' });
  assert.equal(first.status(), 503, 'js: the first document is the challenge (503)');
  assert.match(first.headers()['refuge-challenge'] || '', /^[0-9a-f]{42} 16$/, 'js: Refuge-Challenge: <seed> 16');
  await arrival;
  const seconds = (Date.now() - started) / 1000;
  await waitForTitle(page, contentTitle, 'js');
  const titles = await page.evaluate(() => JSON.parse(sessionStorage.getItem('refuge-test-titles') || '[]'));
  assert.deepEqual(titles, ['One moment', contentTitle], 'js: the documents displayed, in order');
  assert.match(await page.textContent('body'), /the real content/, 'js: the content\'s text');
  assert.equal(page.url(), home, 'js: back at the page asked for');
  assert.deepEqual(documents.map((d) => d.status), [503, 303, 200], `js: documents ${JSON.stringify(documents)}`);
  assert.match(documents[1].url, /\/\.refuge\/shield\/solve\?s=[0-9a-f]{42}&n=[0-9]+&r=(%2F|\/)$/, 'js: the solve URL');
  await checkClearanceCookie(context, 'js');
  assert.doesNotMatch(await page.evaluate(() => document.cookie), /refuge_clearance/, 'js: scripts cannot read the cookie');
  await checkSecondVisit(page, documents, 'js');
  console.log(`with JavaScript: challenge solved, content after ${seconds.toFixed(2)} s; second visit direct`);
  await context.close();
}

async function withoutJavaScript() {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const documents = recordDocuments(page);

  const started = Date.now();
  const arrival = contentArrival(page);
  const first = await page.goto(home, { waitUntil: 'load' });
  assert.equal(first.status(), 503, 'nojs: the first document is the challenge (503)');
  assert.match(await first.text(), /<title>One moment<\/title>/, 'nojs: the challenge page');
  assert.equal(await page.title(), 'One moment', 'nojs: the browser shows the challenge page');
  await arrival;
  const seconds = (Date.now() - started) / 1000;
  await waitForTitle(page, contentTitle, 'nojs');
  assert.match(await page.textContent('body'), /the real content/, 'nojs: the content\'s text');
  assert.deepEqual(documents.map((d) => d.status), [503, 303, 200], `nojs: documents ${JSON.stringify(documents)}`);
  assert.match(documents[1].url, /\/\.refuge\/shield\/wait\?t=[0-9a-f]{40}&r=(%2F|\/)$/, 'nojs: the wait URL');
  // The refresh waits nojs_delay_seconds (2) in the browser.
  assert.ok(seconds >= 1.9, `nojs: the content came after the delay (${seconds} s)`);
  await checkClearanceCookie(context, 'nojs');
  await checkSecondVisit(page, documents, 'nojs');
  console.log(`without JavaScript: waited, content after ${seconds.toFixed(2)} s; second visit direct`);
  await context.close();
}

let failed = false;
try {
  await withJavaScript();
  await withoutJavaScript();
} catch (e) {
  failed = true;
  console.error(`FAIL: ${e.message}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
