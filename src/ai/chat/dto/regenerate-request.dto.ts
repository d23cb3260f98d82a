import { CompletionOptionsDto } from './completion-options.dto';

// A regenerated answer's settings; absent ones take the configured defaults, as for any turn.
export class RegenerateRequestDto extends CompletionOptionsDto {}
