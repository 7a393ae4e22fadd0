/**
 * The lab's stand-in for the @pulumi/random provider (RandomId, RandomPassword, RandomString,
 * RandomBytes), following terraform-provider-random's behaviour with node:crypto. Used only by the
 * lab runner through ./index.ts, never by the published library.
 */
import { randomBytes, randomInt } from "node:crypto";
import type { Created, InputReader, ResourceImpl } from "./index";

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const NUMERIC = "0123456789";
/** The provider's default special characters. */
const SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

const STRING_INPUTS = [
  "keepers",
  "length",
  "lower",
  "minLower",
  "minNumeric",
  "minSpecial",
  "minUpper",
  "number",
  "numeric",
  "overrideSpecial",
  "special",
  "upper",
] as const;

interface StringParams {
  length: number;
  upper: boolean;
  lower: boolean;
  numeric: boolean;
  special: boolean;
  minUpper: number;
  minLower: number;
  minNumeric: number;
  minSpecial: number;
  overrideSpecial?: string;
}

/** Reads RandomString/RandomPassword inputs with the provider's defaults and validation. */
function readStringParams(read: InputReader): StringParams {
  const numericFlag = read.optionalBoolean("numeric") ?? read.optionalBoolean("number") ?? true;
  const params: StringParams = {
    length: read.integer("length", 1),
    upper: read.boolean("upper", true),
    lower: read.boolean("lower", true),
    numeric: numericFlag,
    special: read.boolean("special", true),
    minUpper: read.integer("minUpper", 0, 0),
    minLower: read.integer("minLower", 0, 0),
    minNumeric: read.integer("minNumeric", 0, 0),
    minSpecial: read.integer("minSpecial", 0, 0),
    overrideSpecial: read.optionalString("overrideSpecial"),
  };
  const mins = params.minUpper + params.minLower + params.minNumeric + params.minSpecial;
  if (params.length < mins) {
    throw read.error(
      "length",
      `(${params.length}) must be >= minUpper + minLower + minNumeric + minSpecial (${mins})`,
    );
  }
  if (!params.upper && !params.lower && !params.numeric && !params.special) {
    throw read.error("upper", "or one of lower, numeric, special must be true");
  }
  return params;
}

function pick(charset: string, count: number): string[] {
  return Array.from({ length: count }, () => charset[randomInt(charset.length)]);
}

function shuffle(chars: string[]): string[] {
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars;
}

/**
 * The provider's algorithm: the minimum counts of each class first (honoured even when the class
 * itself is disabled, as upstream does), the rest from the enabled classes, then shuffled.
 */
function randomString(params: StringParams): string {
  const special = params.overrideSpecial || SPECIAL;
  const pool =
    (params.upper ? UPPER : "") +
    (params.lower ? LOWER : "") +
    (params.numeric ? NUMERIC : "") +
    (params.special ? special : "");
  const chars = [
    ...pick(UPPER, params.minUpper),
    ...pick(LOWER, params.minLower),
    ...pick(NUMERIC, params.minNumeric),
    ...pick(special, params.minSpecial),
  ];
  chars.push(...pick(pool, params.length - chars.length));
  return shuffle(chars).join("");
}

/** Inputs echoed with the defaults the provider fills in (`number` mirrors `numeric`). */
function stringOutputs(read: InputReader, params: StringParams, result: string): Record<string, unknown> {
  const { overrideSpecial, ...withDefaults } = params;
  return {
    ...read.echo(),
    ...withDefaults,
    ...(overrideSpecial === undefined ? {} : { overrideSpecial }),
    number: params.numeric,
    result,
  };
}

async function createRandomString(read: InputReader): Promise<Created> {
  const params = readStringParams(read);
  const result = randomString(params);
  return { id: result, outputs: stringOutputs(read, params, result) };
}

/** RandomPassword; bcryptHash is NOT produced (no bcrypt implementation here). */
async function createRandomPassword(read: InputReader): Promise<Created> {
  const params = readStringParams(read);
  const result = randomString(params);
  return { id: "none", outputs: stringOutputs(read, params, result) };
}

async function createRandomId(read: InputReader): Promise<Created> {
  const bytes = randomBytes(read.integer("byteLength", 1));
  const prefix = read.optionalString("prefix") ?? "";
  const b64Url = bytes.toString("base64url");
  const hex = bytes.toString("hex");
  const outputs = {
    ...read.echo(),
    b64Url: prefix + b64Url,
    b64Std: prefix + bytes.toString("base64"),
    hex: prefix + hex,
    dec: prefix + BigInt(`0x${hex}`).toString(),
  };
  return { id: b64Url, outputs };
}

async function createRandomBytes(read: InputReader): Promise<Created> {
  const bytes = randomBytes(read.integer("length", 1));
  const outputs = { ...read.echo(), base64: bytes.toString("base64"), hex: bytes.toString("hex") };
  return { id: "none", outputs };
}

export const randomResources: Readonly<Record<string, ResourceImpl>> = {
  "random:index/randomId:RandomId": {
    inputs: ["byteLength", "keepers", "prefix"],
    secretOutputs: [],
    create: createRandomId,
  },
  "random:index/randomPassword:RandomPassword": {
    inputs: STRING_INPUTS,
    secretOutputs: ["bcryptHash", "result"],
    create: createRandomPassword,
  },
  "random:index/randomString:RandomString": {
    inputs: STRING_INPUTS,
    secretOutputs: [],
    create: createRandomString,
  },
  "random:index/randomBytes:RandomBytes": {
    inputs: ["keepers", "length"],
    secretOutputs: ["base64", "hex"],
    create: createRandomBytes,
  },
};
