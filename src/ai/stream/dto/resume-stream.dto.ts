import { IsInt, IsOptional, IsUUID, Min } from 'class-validator';

// chat:resume: the stream, and the last chunk the client has (0 or omitted: from the first).
export class ResumeStreamDto {
  @IsUUID()
  streamId!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  lastSeq?: number;
}
