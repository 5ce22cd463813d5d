/**
 * Keyboard shortcuts (pure): map a key event to an app command. Shown in the help overlay.
 */
export type Command =
  | 'open' | 'zoom-in' | 'zoom-out' | 'home' | 'pan-left' | 'pan-right' | 'pan-up' | 'pan-down'
  | 'toggle-navigator' | 'toggle-info' | 'toggle-heatmap' | 'toggle-heatmap-panel' | 'explain-patch' | 'fullscreen' | 'help' | 'escape' | 'close'
  | AnnotationCommand;

/** annotation tools and edits (handled by lib/annotations/state.svelte.ts annotationCommand) */
export type AnnotationCommand =
  | 'ann-tool-select' | 'ann-tool-rectangle' | 'ann-tool-ellipse' | 'ann-tool-polygon' | 'ann-tool-polyline' | 'ann-tool-brush' | 'ann-tool-point'
  | 'ann-brush-smaller' | 'ann-brush-larger' | 'ann-undo' | 'ann-redo' | 'ann-delete' | 'ann-panel';

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  shiftKey?: boolean;
  /** true when the event target is an editable field (input/textarea/select/contenteditable) */
  inEditable?: boolean;
}

export const SHORTCUTS: { keys: string; action: string }[] = [
  { keys: 'Ctrl/Cmd + O', action: 'Open a slide' },
  { keys: '+ / =', action: 'Zoom in' },
  { keys: '−', action: 'Zoom out' },
  { keys: '0 or Home', action: 'Fit slide to window' },
  { keys: '← → ↑ ↓', action: 'Pan' },
  { keys: 'N', action: 'Toggle navigator' },
  { keys: 'I', action: 'Toggle info panel' },
  { keys: 'A', action: 'Toggle heatmap (analysis) panel' },
  { keys: 'H', action: 'Show / hide the heatmap' },
  { keys: 'E or right-click', action: 'Explain the patch under the cursor' },
  { keys: 'F', action: 'Fullscreen' },
  { keys: 'L', action: 'Toggle the annotations panel' },
  { keys: 'S · R · O · P · V · B · .', action: 'Annotation tools: select, rectangle, ellipse, polygon (drag: freehand outline), line (a ruler), brush, point' },
  { keys: 'Enter / double-click', action: 'Close the polygon or end the line being drawn (Backspace drops its last vertex)' },
  { keys: '[ / ]', action: 'Brush smaller / larger; a stroke from inside the selected area adds to it, Alt+stroke cuts' },
  { keys: 'Delete', action: 'Delete the selected annotation (Alt+click a vertex removes it)' },
  { keys: 'Ctrl/Cmd + Z', action: 'Undo an annotation change' },
  { keys: 'Ctrl/Cmd + Shift + Z or Ctrl + Y', action: 'Redo' },
  { keys: '?', action: 'Show this help' },
  { keys: 'Esc', action: 'Cancel the shape being drawn; close dialogs and the patch explanation' },
  { keys: 'Wheel / drag / double-click', action: 'Zoom / pan / zoom in' },
];

export function commandForKey(e: KeyLike): Command | null {
  const mod = !!(e.ctrlKey || e.metaKey);
  if (e.key === 'Escape') return 'escape';
  if (mod && !e.altKey && (e.key === 'o' || e.key === 'O')) return 'open';
  if (mod && !e.altKey && (e.key === 'w' || e.key === 'W')) return 'close';
  if (mod && !e.altKey && !e.inEditable && (e.key === 'z' || e.key === 'Z')) return e.shiftKey ? 'ann-redo' : 'ann-undo';
  if (mod && !e.altKey && !e.inEditable && !e.shiftKey && (e.key === 'y' || e.key === 'Y')) return 'ann-redo';
  if (mod || e.altKey || e.inEditable) return null;
  switch (e.key) {
    case '+': case '=': return 'zoom-in';
    case '-': case '_': return 'zoom-out';
    case '0': case 'Home': return 'home';
    case 'ArrowLeft': return 'pan-left';
    case 'ArrowRight': return 'pan-right';
    case 'ArrowUp': return 'pan-up';
    case 'ArrowDown': return 'pan-down';
    case 'n': case 'N': return 'toggle-navigator';
    case 'i': case 'I': return 'toggle-info';
    case 'h': case 'H': return 'toggle-heatmap';
    case 'a': case 'A': return 'toggle-heatmap-panel';
    case 'e': case 'E': return 'explain-patch';
    case 'f': case 'F': return 'fullscreen';
    case '?': return 'help';
    case 'l': case 'L': return 'ann-panel';
    case 's': case 'S': return 'ann-tool-select';
    case 'r': case 'R': return 'ann-tool-rectangle';
    case 'o': case 'O': return 'ann-tool-ellipse';
    case 'p': case 'P': return 'ann-tool-polygon';
    case 'b': case 'B': return 'ann-tool-brush';
    case 'v': case 'V': return 'ann-tool-polyline';
    case '[': return 'ann-brush-smaller';
    case ']': return 'ann-brush-larger';
    case '.': return 'ann-tool-point';
    case 'Delete': case 'Backspace': return 'ann-delete';
    default: return null;
  }
}

/** Menu command strings from the native menu (bridge.onMenu) → app command (+ path for open-recent). */
export function parseMenuCommand(cmd: string): { command: Command | 'open-recent' | 'about' | 'shortcuts'; path?: string } | null {
  if (cmd.startsWith('open-recent:')) {
    const path = cmd.slice('open-recent:'.length);
    return path ? { command: 'open-recent', path } : null;
  }
  const simple: Record<string, Command | 'about' | 'shortcuts'> = {
    open: 'open', close: 'close', 'zoom-in': 'zoom-in', 'zoom-out': 'zoom-out', home: 'home',
    'toggle-navigator': 'toggle-navigator', 'toggle-info': 'toggle-info', fullscreen: 'fullscreen',
    about: 'about', shortcuts: 'shortcuts', help: 'help', undo: 'ann-undo', redo: 'ann-redo',
  };
  const c = simple[cmd];
  return c ? { command: c } : null;
}
