// A JSON payload received by a test (HTTP response body, Socket.IO event data) whose shape the
// test's own expect() calls check, the way supertest types `res.body`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped by nature; the assertions are the check
export type Json = any;
