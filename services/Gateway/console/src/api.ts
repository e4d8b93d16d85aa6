// Every call to the Gateway goes through here, with the credential the person signed in with.

const credentialKey = "agentry.credential";

export interface Caller { name: string; tenantId: string; roles: string[] }
export interface TokenUsage { inputTokens: number; outputTokens: number }
export interface ToolCall { callId: string; tool: string; arguments: unknown }
export interface ToolOutcome { callId: string; tool: string; arguments: unknown; output: string; errorKind: string; error: string | null; duration: string }
export interface StepView {
  step: number; thought: string | null; toolCalls: ToolCall[]; outcomes: ToolOutcome[]; finalAnswer: string | null;
  verdict: string | null; verdictReason: string | null; usage: TokenUsage | null; model: string | null; cacheHit: boolean; cost: number | null;
  guidance: { text: string; by: string } | null;
  /** The model calls that built the step's context (a summary of earlier steps), null when none. */
  contextUsage: TokenUsage | null; contextCost: number | null;
}
export interface ApprovalView {
  runId: string; agent: string; step: number; callId: string; tool: string; arguments: unknown; requestedAt: string; expiresAt: string;
  approved: boolean | null; decidedBy: string | null; comment: string | null; decidedAt: string | null;
  assignee?: string | null; assignedBy?: string | null; assignedAt?: string | null;
}
export interface RunView {
  runId: string; agent: string | null; goal: string | null; status: string; answer: string | null; reason: string | null;
  usage: TokenUsage | null; steps: StepView[]; totalCost: number | null; approvals: ApprovalView[] | null; trigger: string | null;
  escalationSummary?: string | null; onlineEvaluation?: OnlineEvaluation | null;
  /** Asking the model what the completed run taught about its user, after it ended: not in usage and totalCost. */
  extractionUsage?: TokenUsage | null; extractionCost?: number | null;
  /** The definition the run acts on (docs/durability.md); absent when the Planner did not answer in time. */
  definition?: RunDefinition | null;
  /** A fork or replay names the run it came from; a run lists its own forks and replays. */
  lineage?: RunLineage | null; children?: RunChild[] | null;
}
export interface RunDefinition { agentHash: string | null; currentHash: string | null; movingToHash: string | null; differsFromCurrent: boolean }
export interface RunLineage { parentRunId: string; kind: "Fork" | "Replay"; fromStep: number; model: string | null; guidance: { text: string; by: string } | null }
export interface RunChild { runId: string; kind: "Fork" | "Replay"; fromStep: number }
export interface OnlineGrade { grader: string; score: number; passed: boolean; reason: string; notGraded: boolean }
export interface OnlineEvaluation { score: number | null; grades: OnlineGrade[]; gradedAt: string; sequence: number }
export interface RunSummary {
  runId: string; agent: string | null; goal: string | null; status: string; trigger: string | null; startedAt: string | null;
  endedAt: string | null; steps: number | null; usage: TokenUsage | null; totalCost: number | null;
}

export interface TimelineSpan {
  traceId: string; spanId: string; parentSpanId: string | null; service: string; name: string; kind: string; start: string;
  offsetMs: number; durationMs: number; queueWaitMs: number | null; retryAttempt: number | null; status: string;
  operation: string | null; step: number | null; stage: string | null;
}
export interface RunTimeline {
  runId: string; source: string; start: string; durationMs: number; traces: { traceId: string; jaegerUrl: string | null }[];
  steps: { step: number; planningMs: number; modelCalls: number }[]; spans: TimelineSpan[];
}

export class ApiError extends Error {
  constructor(message: string, readonly status: number) { super(message); }
}

export const credential = {
  get: (): string | null => sessionStorage.getItem(credentialKey),
  set: (value: string) => sessionStorage.setItem(credentialKey, value),
  clear: () => sessionStorage.removeItem(credentialKey),
};

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const value = credential.get();
  return value ? { Authorization: `Bearer ${value}`, ...extra } : extra;
}

/// The Gateway answers errors as problem details; their detail is the sentence to show.
async function failure(response: Response): Promise<ApiError> {
  let message = `The Gateway answered ${response.status} ${response.statusText}.`;
  try {
    const problem = await response.json();
    message = problem.detail ?? problem.title ?? message;
  } catch { /* not JSON: keep the status line */ }
  if (response.status === 401) message = "The Gateway did not accept this credential (unknown, revoked or expired). Sign in again.";
  return new ApiError(message, response.status);
}

export async function get<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: headers() });
  if (!response.ok) throw await failure(response);
  return response.json() as Promise<T>;
}

export async function post(path: string, body: unknown, method = "POST"): Promise<void> {
  const response = await fetch(path, { method, headers: headers({ "Content-Type": "application/json" }), body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw await failure(response);
}

export interface RunEvent { type: string; data: any }

/// Follows GET /runs/events: EventSource cannot send an Authorization header, so the stream is read
/// with fetch. onReady runs when the stream is open (and again after each reconnection): the page
/// reads its state then, and every event after it applies on top. Returns a function that stops.
export function followEvents(query: string, onReady: () => void, onEvent: (event: RunEvent) => void, onState: (live: boolean) => void): () => void {
  const stop = new AbortController();
  const connect = async () => {
    while (!stop.signal.aborted) {
      try {
        const response = await fetch(`/runs/events${query}`, { headers: headers({ Accept: "text/event-stream" }), signal: stop.signal });
        if (!response.ok || !response.body) throw await failure(response);
        await readEvents(response.body, event => {
          if (event.type === "ready") { onState(true); onReady(); } else onEvent(event);
        });
      } catch (error) {
        if (stop.signal.aborted) return;
        if (error instanceof ApiError && error.status === 401) { onState(false); return; }
      }
      onState(false);
      await new Promise(resolve => setTimeout(resolve, 2000));
    }
  };
  void connect();
  return () => stop.abort();
}

async function readEvents(body: ReadableStream<Uint8Array>, dispatch: (event: RunEvent) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) type = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length > 0) dispatch({ type, data: JSON.parse(data.join("\n")) });
    }
  }
}
