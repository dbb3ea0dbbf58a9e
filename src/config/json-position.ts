/**
 * Find the line and column of a value inside JSON text by its path (["retries", "count"]), so a
 * schema error can point at the exact line to fix. A small position-tracking scan, not a full parser:
 * it assumes the text is valid JSON (JSON.parse already succeeded).
 */
export interface TextPosition {
  line: number;
  column: number;
}

export function positionOfJsonPath(text: string, path: ReadonlyArray<string | number>): TextPosition | undefined {
  let index = 0;

  const skipSpace = (): void => {
    while (index < text.length && /\s/.test(text[index]!)) index++;
  };
  const readString = (): string => {
    const start = index;
    index++; // opening quote
    while (index < text.length && text[index] !== '"') index += text[index] === '\\' ? 2 : 1;
    index++;
    return JSON.parse(text.slice(start, index)) as string;
  };
  const skipValue = (): void => {
    skipSpace();
    const ch = text[index];
    if (ch === '"') return void readString();
    if (ch === '{' || ch === '[') {
      const close = ch === '{' ? '}' : ']';
      index++;
      skipSpace();
      if (text[index] === close) return void index++;
      for (;;) {
        if (ch === '{') {
          skipSpace();
          readString();
          skipSpace();
          index++; // colon
        }
        skipValue();
        skipSpace();
        if (text[index++] === close) return;
      }
    }
    while (index < text.length && !/[\s,}\]]/.test(text[index]!)) index++;
  };
  /** Moves `index` to the start of the child `key` of the container at `index`; false if absent. */
  const enter = (key: string | number): boolean => {
    skipSpace();
    const open = text[index];
    if (open !== '{' && open !== '[') return false;
    index++;
    for (let position = 0; ; position++) {
      skipSpace();
      if (text[index] === '}' || text[index] === ']') return false;
      if (open === '{') {
        const name = readString();
        skipSpace();
        index++; // colon
        skipSpace();
        if (name === String(key)) return true;
      } else if (position === key) {
        return true;
      }
      skipValue();
      skipSpace();
      if (text[index] === ',') index++;
    }
  };

  for (const key of path) {
    const saved = index;
    if (!enter(key)) {
      index = saved;
      break;
    }
  }
  skipSpace();
  return toPosition(text, index);
}

export function toPosition(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Offset of the first JSON syntax error. V8 leaves the position out of some messages ("Unexpected
 * token ''', … is not valid JSON"), so a small recursive-descent scan finds it.
 */
export function jsonSyntaxErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw new JsonSyntaxAt(Math.min(i, text.length));
  };
  const space = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const string = (): void => {
    if (text[i] !== '"') fail();
    for (i++; i < text.length && text[i] !== '"'; i++) {
      if (text.charCodeAt(i) < 0x20) fail();
      if (text[i] === '\\') i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const value = (): void => {
    space();
    const open = text[i];
    if (open === '{' || open === '[') {
      const close = open === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) return void i++;
      for (;;) {
        if (open === '{') {
          space();
          string();
          space();
          if (text[i] !== ':') fail();
          i++;
        }
        value();
        space();
        if (text[i] === close) return void i++;
        if (text[i] !== ',') fail();
        i++;
      }
    }
    if (open === '"') return string();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i));
    if (!literal) fail();
    i += literal![0].length;
  };
  try {
    value();
    space();
    if (i < text.length) fail();
  } catch (error) {
    if (error instanceof JsonSyntaxAt) return error.offset;
    throw error;
  }
  return text.length;
}

class JsonSyntaxAt {
  constructor(readonly offset: number) {}
}

/**
 * V8's JSON.parse message without the parts the place already tells or that run over lines: the
 * quoted snippet of the text (`, ..."abc" is not valid JSON`) and `in JSON at position N (line …)`.
 */
export function jsonErrorReason(message: string): string {
  const reason = message
    .replace(/, (\.\.\.)?"[\s\S]*$/, '')
    .replace(/\s*(in JSON )?at position \d+[\s\S]*$/, '')
    .trim();
  return reason || message.split('\n')[0]!;
}
