import { AppError } from '../../common/errors/app-error';
import type { DocumentMimeType } from './knowledge.constants';
import { extractPdfText } from './pdf-text';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

// A document's text, ready to be split: PDF through its reader, text and Markdown as UTF-8 (a file
// in another encoding is refused rather than stored garbled). Line ends become \n; NUL characters,
// which PostgreSQL's text cannot hold, are dropped.
export async function extractDocumentText(bytes: Uint8Array, mimeType: DocumentMimeType): Promise<string> {
  const raw = mimeType === 'application/pdf' ? await extractPdfText(bytes) : decodeUtf8(bytes);
  return raw.replace(/\r\n?/g, '\n').replace(/\0/g, '');
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new AppError('VALIDATION_FAILED', 'The file is not UTF-8 text');
  }
}
