import { ApiProperty } from '@nestjs/swagger';

export class UserResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'ada@example.com' }) email: string;
  @ApiProperty({ nullable: true, type: String, example: 'Ada' }) name: string | null;
  @ApiProperty() createdAt: Date;
}

export class ProfileResponseDto extends UserResponseDto {
  @ApiProperty({ description: 'Lifetime tokens used (chat, streams, embeddings, jobs)' }) totalTokensUsed: number;
  @ApiProperty({ description: 'Lifetime token budget' }) tokenLimit: number;
  @ApiProperty({ enum: ['user', 'admin'], description: 'admin: may use /api/v1/admin and the admin view of /dashboard' }) role: 'user' | 'admin';
}
