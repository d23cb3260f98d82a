// The fake upstream's answer for a tag and a chunk count: chunk 0 is the tag, chunk i is " t<i>".
export function answerText(tag, chunks) {
  let text = tag;
  for (let i = 1; i < chunks; i++) text += ` t${i}`;
  return text;
}

// How many of the fake's chunks a text received so far holds: the service may pass chunks that
// arrived together as one event, so delivered chunks are counted in the text, not in events.
export function chunksIn(text) {
  return text ? text.split(' ').length : 0;
}
