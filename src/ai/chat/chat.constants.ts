// A conversation started by a chat turn is titled from its first message, cut to this length.
export const TITLE_MAX_LENGTH = 80;
