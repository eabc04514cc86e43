/**
 * The length of a string in UTF-8, without encoding it: limits on what goes on the
 * wire are in bytes, and a string's `length` counts UTF-16 code units (one '€' is one
 * unit and three bytes).
 */

/**
 * Bytes of `text` in UTF-8 as `TextEncoder` writes it: 1 to 3 a code unit, 4 a surrogate
 * pair, and 3 a lone surrogate (written as U+FFFD).
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) bytes += 1;
    else if (
      unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))
    ) {
      // Two units, four bytes.
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * Whether `text` takes at most `max` bytes of UTF-8, counting only when its length in
 * code units leaves a doubt: every unit takes 1 to 3 bytes.
 */
export function fitsUtf8(text: string, max: number): boolean {
  if (text.length > max) return false;
  if (text.length * 3 <= max) return true;
  return utf8Length(text) <= max;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
