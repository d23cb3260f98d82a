import { Worker } from 'node:worker_threads';
import { AppError } from '../../common/errors/app-error';
import { PDF_EXTRACT_MAX_HEAP_MB, PDF_EXTRACT_TIMEOUT_MS } from './knowledge.constants';

// unpdf (PDF.js packaged for servers, no native parts, maintained by UnJS) reads the text of each
// page. It runs in a worker thread: parsing a large or hostile PDF is CPU-bound and would otherwise
// stall every stream and job of the process, and the thread can be bounded and killed. The thread
// runs plain CommonJS (eval), so it loads unpdf the same way from dist/ and under the test runner.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { extractText, getDocumentProxy } = require(workerData.unpdfPath);
(async () => {
  const pdf = await getDocumentProxy(workerData.bytes, { verbosity: 0 });
  const { text } = await extractText(pdf, { mergePages: false });
  parentPort.postMessage({ text: text.join('\\n\\n') });
})().catch((error) => parentPort.postMessage({ error: { name: String(error && error.name), message: String(error && error.message) } }));
`;

type WorkerAnswer = { text: string } | { error: { name: string; message: string } };

// The text of a PDF, pages separated by a blank line. Throws VALIDATION_FAILED for a file PDF.js
// cannot read (not a PDF, damaged, encrypted), which fails its ingestion for good.
export async function extractPdfText(bytes: Uint8Array, timeoutMs = PDF_EXTRACT_TIMEOUT_MS): Promise<string> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { unpdfPath: require.resolve('unpdf'), bytes },
    resourceLimits: { maxOldGenerationSizeMb: PDF_EXTRACT_MAX_HEAP_MB },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await new Promise<WorkerAnswer>((resolve, reject) => {
      timer = setTimeout(() => reject(new AppError('VALIDATION_FAILED', 'The PDF took too long to read')), timeoutMs);
      worker.once('message', resolve);
      worker.once('error', () => reject(new AppError('VALIDATION_FAILED', 'The PDF is too large or complex to read')));
      worker.once('exit', (code) => reject(new Error(`PDF reader stopped with code ${code}`)));
    });
    if ('text' in answer) return answer.text;
    if (answer.error.name === 'PasswordException') throw new AppError('VALIDATION_FAILED', 'The PDF is password-protected');
    throw new AppError('VALIDATION_FAILED', 'The file is not a readable PDF', { reader: answer.error });
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
}
