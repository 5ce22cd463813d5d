/**
 * The native menu as a template (pure data + click callbacks that send a fixed menu command).
 * app/electron/main.ts feeds it to Menu.buildFromTemplate.
 */
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuOptions {
  appName: string;
  isMac: boolean;
  /** DevTools / reload only in development builds */
  isDev: boolean;
  recent: { path: string; name: string }[];
  /** sends a menu command to the renderer (ipc.sendMenuCommand) */
  send: (command: string) => void;
  clearRecent?: () => void;
}

export const MAX_RECENT_MENU = 10;

export function buildMenuTemplate(o: MenuOptions): MenuItemConstructorOptions[] {
  const cmd = (command: string) => () => o.send(command);
  const recent: MenuItemConstructorOptions[] = o.recent.slice(0, MAX_RECENT_MENU).map((r) => ({
    label: r.name.replace(/&/g, '&&'),
    toolTip: r.path,
    click: cmd(`open-recent:${r.path}`),
  }));
  if (recent.length === 0) recent.push({ label: 'No recent files', enabled: false });

  const file: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      { label: 'Open…', accelerator: 'CmdOrCtrl+O', click: cmd('open') },
      { label: 'Open Recent', submenu: recent },
      { label: 'Close Slide', accelerator: 'CmdOrCtrl+W', click: cmd('close') },
      { type: 'separator' },
      o.isMac ? { role: 'close' } : { role: 'quit' },
    ],
  };
  // accelerators for + - 0 are shown but not registered (registerAccelerator: false): the renderer's own
  // key handler does them, so typing in a text field is not hijacked
  const view: MenuItemConstructorOptions = {
    label: '&View',
    submenu: [
      { label: 'Zoom In', accelerator: 'Plus', registerAccelerator: false, click: cmd('zoom-in') },
      { label: 'Zoom Out', accelerator: '-', registerAccelerator: false, click: cmd('zoom-out') },
      { label: 'Fit to Window', accelerator: '0', registerAccelerator: false, click: cmd('home') },
      { type: 'separator' },
      { label: 'Toggle Navigator', accelerator: 'N', registerAccelerator: false, click: cmd('toggle-navigator') },
      { label: 'Toggle Info Panel', accelerator: 'I', registerAccelerator: false, click: cmd('toggle-info') },
      { type: 'separator' },
      { role: 'togglefullscreen' },
      ...(o.isDev ? ([{ type: 'separator' }, { role: 'reload' }, { role: 'toggleDevTools' }] as MenuItemConstructorOptions[]) : []),
    ],
  };
  const help: MenuItemConstructorOptions = {
    label: '&Help',
    role: 'help',
    submenu: [
      { label: 'Keyboard Shortcuts', accelerator: 'Shift+/', registerAccelerator: false, click: cmd('shortcuts') },
      { label: `About ${o.appName}`, click: cmd('about') },
    ],
  };
  // Undo / Redo go to the renderer (annotation edits; a focused text field undoes its typing there): a role item's
  // registered accelerator would take Ctrl+Z before the page sees it and run Chromium's text undo instead
  const edit: MenuItemConstructorOptions = {
    label: '&Edit',
    submenu: [
      { label: 'Undo', accelerator: 'CmdOrCtrl+Z', registerAccelerator: false, click: cmd('undo') },
      { label: 'Redo', accelerator: 'Shift+CmdOrCtrl+Z', registerAccelerator: false, click: cmd('redo') },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  };
  const template: MenuItemConstructorOptions[] = [file, view, help];
  if (o.isMac) template.unshift({ role: 'appMenu' }, edit);
  else template.splice(1, 0, edit);
  return template;
}
