// POST /v1/users and /v1/users/batch: usernames of the wrong type, length or
// alphabet (unicode, control characters, SQL), unknown fields, batches out of
// bounds or with duplicates, and taken names (409). Batches are all or
// nothing: a refused batch whose other names are fresh must create none.
import { bad, type CorpusCase, invalid, json, post, problem, raw } from "./case.js";

const createUser = (username: unknown) => post("/v1/users", json({ username }), { auth: "admin" });
const createBatch = (body: unknown) => post("/v1/users/batch", json(body), { auth: "admin" });
const taken = problem(409, "username_taken");

/** Names the contract refuses: 3–32 of [A-Za-z0-9_.-] only. */
const badUsernames: [label: string, username: unknown][] = [
  ["null", null],
  ["a number", 123],
  ["a boolean", true],
  ["an array", ["corpus_user"]],
  ["an object", { name: "corpus_user" }],
  ["a NoSQL operator object", { $ne: null }],
  ["empty", ""],
  ["2 characters", "ab"],
  ["33 characters", "a".repeat(33)],
  ["with a space", "corpus user"],
  ["with a Latin-1 letter", "ålice_corpus"],
  ["in CJK characters", "名前です"],
  ["with a NUL (escaped)", "corpus\u0000user"],
  ["with a newline", "corpus\nuser"],
  ["with a trailing newline", "corpus_user\n"],
  ["with a tab", "corpus\tuser"],
  ["with DEL", "corpus_user\u007f"],
  ["with an escape sequence", "\u001b[31mcorpus"],
  ["of emoji", "😀😀😀😀"],
  ["with a zero-width space", "corpus\u200buser"],
  ["with a right-to-left override", "\u202ecorpus_user"],
  ["in full-width letters", "ｃｏｒｐｕｓ"],
  ["with a lone surrogate", "corpus\ud800user"],
  ["with HTML", "<script>alert(1)</script>"],
  ["SQL: ' OR '1'='1", "' OR '1'='1"],
  ["SQL: Robert'); DROP TABLE users;--", "Robert'); DROP TABLE users;--"],
  ["SQL: admin'--", "admin'--"],
  ["SQL: 1; DELETE FROM users", "1; DELETE FROM users"],
  ["percent-encoded", "%63orpus"],
  ["a path", "../../etc/passwd"],
  ["with slashes", "corpus/user"],
  ["an email address", "corpus@example.com"],
];

const singleUser: CorpusCase[] = [
  bad("empty object (username missing)", post("/v1/users", json({}), { auth: "admin" }), invalid),
  ...badUsernames.map(([label, username]) => bad(`username ${label}`, createUser(username), invalid)),
  bad(
    "unknown field next to a valid username (role)",
    post("/v1/users", json({ username: "corpus_{{tag}}_u1", role: "admin" }), { auth: "admin" }),
    invalid,
  ),
  bad(
    "username under a differently-cased key",
    post("/v1/users", json({ Username: "corpus_{{tag}}_u2" }), { auth: "admin" }),
    invalid,
  ),
  bad(
    "__proto__ next to a valid username",
    post("/v1/users", raw('{"username":"corpus_{{tag}}_u3","__proto__":{"role":"admin"}}'), {
      auth: "admin",
    }),
    invalid,
  ),
  bad(
    "constructor.prototype next to a valid username",
    post(
      "/v1/users",
      json({ username: "corpus_{{tag}}_u4", constructor: { prototype: { role: "admin" } } }),
      {
        auth: "admin",
      },
    ),
    invalid,
  ),
  bad("username taken", createUser("{{takenUsername}}"), taken),
];

/** 1001 distinct valid names: one more than a batch may hold. */
const tooMany = Array.from({ length: 1001 }, (_, i) => `c${i.toString(36).padStart(3, "0")}`);
/** Many fresh valid names and a bad one last (under 16 KiB): all or nothing. */
const lastOneBad = [...Array.from({ length: 499 }, (_, i) => `corpus_{{tag}}_${i}`), "bad name"];

const batches: CorpusCase[] = [
  bad("batch: empty object", createBatch({}), invalid),
  bad("batch: usernames null", createBatch({ usernames: null }), invalid),
  bad("batch: usernames a string", createBatch({ usernames: "corpus_{{tag}}_b1" }), invalid),
  bad("batch: usernames an object", createBatch({ usernames: { 0: "corpus_{{tag}}_b1" } }), invalid),
  bad("batch: empty list", createBatch({ usernames: [] }), invalid),
  bad("batch: a number in the list", createBatch({ usernames: ["corpus_{{tag}}_b1", 123] }), invalid),
  bad("batch: a null in the list", createBatch({ usernames: [null] }), invalid),
  bad("batch: a nested list", createBatch({ usernames: [["corpus_{{tag}}_b1"]] }), invalid),
  bad("batch: 1001 names", createBatch({ usernames: tooMany }), invalid),
  bad(
    "batch: the same name twice",
    createBatch({ usernames: ["corpus_{{tag}}_b1", "corpus_{{tag}}_b1"] }),
    invalid,
  ),
  bad(
    "batch: a name repeated far apart",
    createBatch({
      usernames: ["corpus_{{tag}}_b1", "corpus_{{tag}}_b2", "corpus_{{tag}}_b3", "corpus_{{tag}}_b1"],
    }),
    invalid,
  ),
  bad("batch: a fresh name and an empty one", createBatch({ usernames: ["corpus_{{tag}}_b1", ""] }), invalid),
  bad(
    "batch: a fresh name and one with a space",
    createBatch({ usernames: ["corpus_{{tag}}_b1", "a b"] }),
    invalid,
  ),
  bad(
    "batch: a fresh name and a SQL one",
    createBatch({ usernames: ["corpus_{{tag}}_b1", "x'); DROP TABLE users;--"] }),
    invalid,
  ),
  bad(
    "batch: a fresh name and a unicode one",
    createBatch({ usernames: ["corpus_{{tag}}_b1", "ünïcode"] }),
    invalid,
  ),
  bad("batch: 499 fresh names and a bad one last", createBatch({ usernames: lastOneBad }), invalid),
  bad(
    "batch: a fresh name and a taken one",
    createBatch({ usernames: ["corpus_{{tag}}_b1", "{{takenUsername}}"] }),
    taken,
  ),
  bad("batch: unknown field", createBatch({ usernames: ["corpus_{{tag}}_b1"], admin: true }), invalid),
  bad("batch: the key misspelled", createBatch({ userNames: ["corpus_{{tag}}_b1"] }), invalid),
];

export const userCases: readonly CorpusCase[] = [...singleUser, ...batches];
