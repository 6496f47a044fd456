// How an error message shows a value the user passed. It never throws, whatever the value: a
// null-prototype object, a throwing toString, a revoked Proxy, a Symbol, a BigInt. It never calls
// the value's own toString or valueOf; the few reflective reads it makes (a constructor's name,
// a symbol's description) are guarded, since a Proxy or a getter can throw on any of them.

/** Characters of a string (or a bigint's digits) shown before the rest is cut. */
const MAX_CHARS = 40;

function cut(text: string): string {
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}… (${text.length} characters)` : text;
}

/** A short, safe description of any value, for error messages: 1.5, "8", 5n, an object with a null prototype, … */
export function describeValue(value: unknown): string {
  try {
    switch (typeof value) {
      case "number":
        return Object.is(value, -0) ? "-0" : `${value}`;
      case "string":
        return cut(JSON.stringify(value));
      case "bigint":
        return `${cut(value.toString())}n`;
      case "boolean":
        return value ? "true" : "false";
      case "undefined":
        return "undefined";
      case "symbol":
        return describeSymbol(value);
      case "function":
        return describeFunction(value);
      default:
        return value === null ? "null" : describeObject(value as object);
    }
  } catch {
    return `a value of type ${typeof value}`;
  }
}

function describeSymbol(value: symbol): string {
  const text = Symbol.prototype.toString.call(value);
  return typeof text === "string" ? cut(text) : "a symbol";
}

function describeFunction(value: object): string {
  const name = ownName(value);
  return name ? `a function (${name})` : "a function";
}

function describeObject(value: object): string {
  let proto: object | null;
  try {
    if (Array.isArray(value)) return `an array of length ${(value as unknown[]).length >>> 0}`;
    proto = Object.getPrototypeOf(value);
  } catch {
    return "an object (a revoked Proxy, or one whose traps throw)";
  }
  if (proto === null) return "an object with a null prototype";
  if (proto === Object.prototype) return "an object";
  let name = "";
  try {
    const ctor = Object.getOwnPropertyDescriptor(proto, "constructor")?.value;
    if (typeof ctor === "function") name = ownName(ctor);
  } catch {
    // a Proxy as a prototype: no name then
  }
  return name ? `an object (${name})` : "an object";
}

/** A function's own `name` when it is a plain string data property. */
function ownName(fn: object): string {
  try {
    const name = Object.getOwnPropertyDescriptor(fn, "name")?.value;
    return typeof name === "string" ? cut(name) : "";
  } catch {
    return "";
  }
}
