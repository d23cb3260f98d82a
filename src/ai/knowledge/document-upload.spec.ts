import { documentMimeTypeOf } from './document-upload';

describe(documentMimeTypeOf.name, () => {
  it.each([
    ['text/plain', 'a.txt', 'text/plain'],
    ['text/plain; charset=utf-8', 'a', 'text/plain'],
    ['TEXT/MARKDOWN', 'a.md', 'text/markdown'],
    ['text/x-markdown', 'a.md', 'text/markdown'],
    ['application/pdf', 'scan', 'application/pdf'],
    ['application/octet-stream', 'notes.MD', 'text/markdown'],
    ['application/octet-stream', 'guide.markdown', 'text/markdown'],
    ['application/octet-stream', 'paper.pdf', 'application/pdf'],
    ['', 'readme.txt', 'text/plain'],
  ])('takes %p named %p as %p', (mimetype, originalname, expected) => {
    expect(documentMimeTypeOf({ mimetype, originalname })).toBe(expected);
  });

  it.each([
    ['image/png', 'photo.png'],
    ['text/html', 'page.md'],
    ['application/octet-stream', 'archive.zip'],
    ['application/octet-stream', 'no-extension'],
    ['application/msword', 'cv.pdf'],
  ])('refuses %p named %p', (mimetype, originalname) => {
    expect(documentMimeTypeOf({ mimetype, originalname })).toBeNull();
  });
});
