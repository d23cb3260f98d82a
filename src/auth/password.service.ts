import { Injectable } from '@nestjs/common';
import * as bcrypt from 'bcrypt';
import { AppConfigService } from '../config/app-config.service';

@Injectable()
export class PasswordService {
  // Compared against when the e-mail is unknown, so a failed login takes the same time either way.
  private readonly dummyHash: string;

  constructor(private readonly config: AppConfigService) {
    this.dummyHash = bcrypt.hashSync('not-a-real-password', config.get('BCRYPT_ROUNDS'));
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.config.get('BCRYPT_ROUNDS'));
  }

  verify(password: string, hash: string | undefined): Promise<boolean> {
    return bcrypt.compare(password, hash ?? this.dummyHash);
  }
}
