// Sent to every socket of a document's owner when its ingestion starts and when it ends:
// `{ id, status }` with status `processing`, `ready` or `failed`.
export const DOCUMENT_STATUS_EVENT = 'document:status';

export const DOCUMENT_STATUSES = ['processing', 'ready', 'failed'] as const;
export type DocumentStatusName = (typeof DOCUMENT_STATUSES)[number];

// The media types a document may have; a file of any other type is refused with 415.
export const DOCUMENT_MIME_TYPES = ['text/plain', 'text/markdown', 'application/pdf'] as const;
export type DocumentMimeType = (typeof DOCUMENT_MIME_TYPES)[number];

export const DOCUMENT_TITLE_MAX_LENGTH = 200;

// search's topK: its bounds and default.
export const SEARCH_TOP_K = { min: 1, max: 20, default: 5 } as const;
// documentIds a search may name at once.
export const SEARCH_MAX_DOCUMENT_IDS = 100;

// A PDF is read in a worker thread with these bounds: a hostile or broken file costs at most this
// much time and heap, and never blocks the event loop that serves streams.
export const PDF_EXTRACT_TIMEOUT_MS = 60_000;
export const PDF_EXTRACT_MAX_HEAP_MB = 512;
