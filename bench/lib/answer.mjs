// The fake upstream's answer for a tag and a chunk count: chunk 0 is the tag, chunk i is " t<i>".
export function answerText(tag, chunks) {
  let text = tag;
  for (let i = 1; i < chunks; i++) text += ` t${i}`;
  return text;
}
