/** One JSON line per event, with the session it is about: errors to stderr, the rest to stdout. */
export type SessionLog = (level: "info" | "error", event: string, fields: Record<string, unknown>) => void;

export function sessionLog(sessionId: () => string | undefined): SessionLog {
  return (level, event, fields) => {
    const line = JSON.stringify({ level, event, sessionId: sessionId(), ...fields });
    if (level === "error") console.error(line);
    else console.log(line);
  };
}
