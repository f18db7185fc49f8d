/**
 * `compute`, remembered for the last `size` distinct texts (the oldest is forgotten first). For
 * pure functions of a text asked for the same text again soon after. Every caller gets the same
 * result object: read it, never change it.
 */
export function rememberLast<T>(size: number, compute: (text: string) => T): (text: string) => T {
  const remembered = new Map<string, T>();
  return (text) => {
    if (remembered.has(text)) return remembered.get(text) as T;
    const value = compute(text);
    if (remembered.size >= size) remembered.delete(remembered.keys().next().value!);
    remembered.set(text, value);
    return value;
  };
}
