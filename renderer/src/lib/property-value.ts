/**
 * How the info panel shows one vendor property value (pure). Long values (hex dumps, binary blobs, base64,
 * long XML) are cut to a preview with an ellipsis; the full value stays one click away (expand) and, when not
 * huge, in the tooltip.
 */

/** Values up to this many characters are shown whole. */
export const PREVIEW_CHARS = 96;
/** Tooltips longer than this are cut too (a browser tooltip of 100 KB helps no one). */
export const TITLE_CHARS = 2000;

export type ValueKind = 'text' | 'hex' | 'binary';

export interface PropertyValueView {
  kind: ValueKind;
  /** what the table shows by default */
  preview: string;
  /** true when the preview is not the whole value */
  truncated: boolean;
  /** tooltip text */
  title: string;
}

/** Hex dumps ("0A1B2C…", "0x…", with or without spaces) long enough to be data, not a number or an id. */
function isHex(v: string): boolean {
  const t = v.replace(/^0x/i, '').replace(/[\s:,-]/g, '');
  return t.length >= 32 && /^[0-9a-f]+$/i.test(t);
}

/** Control characters (other than tab / newline) or U+FFFD: bytes that were never text. */
function isBinary(v: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000e-\u001f\ufffd]/.test(v);
}

export function valueKind(v: string): ValueKind {
  if (isBinary(v)) return 'binary';
  if (isHex(v)) return 'hex';
  return 'text';
}

/** Characters, grouped for a size readout: "1,234 chars". */
function chars(n: number): string {
  return `${n.toLocaleString('en-US')} chars`;
}

export function propertyValueView(v: string, previewChars = PREVIEW_CHARS): PropertyValueView {
  const kind = valueKind(v);
  if (kind === 'binary') {
    // never print control bytes: show them as dots, and say what it is
    const shown = v.slice(0, previewChars).replace(/[\u0000-\u001f\ufffd]/g, '·'); // eslint-disable-line no-control-regex
    return { kind, preview: `${shown}${v.length > previewChars ? '…' : ''} (binary, ${chars(v.length)})`, truncated: v.length > previewChars, title: `binary value, ${chars(v.length)}` };
  }
  const title = v.length > TITLE_CHARS ? `${v.slice(0, TITLE_CHARS)}… (${chars(v.length)})` : v;
  if (v.length <= previewChars) return { kind, preview: v, truncated: false, title };
  const label = kind === 'hex' ? `hex, ${chars(v.length)}` : chars(v.length);
  return { kind, preview: `${v.slice(0, previewChars)}… (${label})`, truncated: true, title };
}
