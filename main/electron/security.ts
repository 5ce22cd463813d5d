/**
 * Security policy for the Electron host, as plain functions over the few electron objects they touch
 * (types only: nothing here imports electron at run time, so test/electron can drive them with fakes).
 */
import type { BrowserWindowConstructorOptions, WebPreferences } from 'electron';
import { APP_CSP, APP_ORIGIN, APP_SCHEME } from '../contract/bridge.js';

/** the same CSP the HTTP host sends with HTML (one definition, in the contract) */
export { APP_CSP };

export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * True only for glassbox://app/… URLs. (WHATWG URL gives custom schemes an opaque "null" origin,
 * so compare scheme and host explicitly.)
 */
export function isAppUrl(url: string | null | undefined): boolean {
  if (typeof url !== 'string' || url.length === 0) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === `${APP_SCHEME}:` && u.host === 'app' && u.username === '' && u.password === '' && u.port === '';
}

/** Links we hand to the OS browser: https only, no credentials. */
export function isExternalLink(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

export function webPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    // the renderer bundle's compiled code is cached from the first start on (Chromium's default waits for a script's
    // second load within 72 h): later starts skip most of its ~0.3 s parse and compile
    v8CacheOptions: 'bypassHeatCheck',
  };
}

export function mainWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1440,
    height: 900,
    minWidth: 720,
    minHeight: 480,
    show: false,
    backgroundColor: '#15171b',
    title: 'Glassbox',
    webPreferences: webPreferences(preloadPath),
  };
}

// ---- sender checks -------------------------------------------------------------------------------------

/** the parts of an IpcMainInvokeEvent / IpcMainEvent we look at */
export interface SenderLike {
  sender: { id: number };
  senderFrame: { url: string } | null | undefined;
}

/**
 * An IPC message is trusted only when it comes from OUR window's webContents and from a frame whose URL
 * is on the app origin (a navigated-away or injected frame is refused).
 */
export function checkSender(event: SenderLike, expected: { id: number } | null | undefined): { ok: true } | { ok: false; reason: string } {
  if (!expected) return { ok: false, reason: 'no app window' };
  if (!event || !event.sender || event.sender.id !== expected.id) return { ok: false, reason: 'sender is not the app window' };
  const url = event.senderFrame?.url;
  if (!isAppUrl(url)) return { ok: false, reason: `sender frame ${JSON.stringify(url ?? null)} is not on ${APP_ORIGIN}` };
  return { ok: true };
}

// ---- navigation, new windows, permissions --------------------------------------------------------------

export interface PreventableEvent {
  preventDefault(): void;
}

/** will-navigate / will-redirect / will-frame-navigate: stay on the app origin */
export function guardNavigation(event: PreventableEvent, url: string): boolean {
  if (isAppUrl(url)) return true;
  event.preventDefault();
  return false;
}

/** setWindowOpenHandler: never open a window; https links go to the OS browser */
export function windowOpenHandler(openExternal: (url: string) => unknown) {
  return (details: { url: string }): { action: 'deny' } => {
    if (isExternalLink(details.url)) void Promise.resolve(openExternal(details.url)).catch(() => undefined);
    return { action: 'deny' };
  };
}

/** Only fullscreen (for the F shortcut), and only for the app origin; every other permission is refused. */
export function allowPermission(permission: string, requestingUrl: string | undefined): boolean {
  return permission === 'fullscreen' && isAppUrl(requestingUrl);
}

export function permissionRequestHandler(
  _wc: unknown,
  permission: string,
  callback: (granted: boolean) => void,
  details?: { requestingUrl?: string },
): void {
  callback(allowPermission(permission, details?.requestingUrl));
}

export function permissionCheckHandler(_wc: unknown, permission: string, requestingOrigin: string): boolean {
  return allowPermission(permission, requestingOrigin);
}

/** the WebContents surface we harden */
export interface HardenableContents {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: 'will-navigate' | 'will-redirect' | 'will-attach-webview', listener: (event: PreventableEvent, url: string) => void): any;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/** Attach every guard to a webContents (called from app 'web-contents-created' for ALL contents). */
export function hardenWebContents(contents: HardenableContents, openExternal: (url: string) => unknown): void {
  contents.on('will-navigate', (e, url) => void guardNavigation(e, url));
  contents.on('will-redirect', (e, url) => void guardNavigation(e, url));
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(windowOpenHandler(openExternal));
}
