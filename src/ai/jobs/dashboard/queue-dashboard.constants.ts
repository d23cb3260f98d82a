// The Bull dashboard's path: outside the /api/v1 prefix (app.setup.ts excludes it).
export const QUEUE_DASHBOARD_ROUTE = 'admin/queues';
