/**
 * What a connection string or URL may carry that must never reach an error message or a log:
 * passwords in URLs, Azure account keys and SAS signatures, AWS secret keys, bearer tokens.
 */
const SECRETS: [RegExp, string][] = [
  // scheme://user:password@host, up to the last @ on the line before any other ://, since a mistyped
  // password may hold @, / or a space. An address later on that line is masked too: better than a leak.
  [/(\/\/[^/\s:@]*:)(?:(?!:\/\/).)*@/g, '$1***@'],
  [/((?:AccountKey|SharedAccessSignature|SharedAccessKey|Password|Pwd)\s*=\s*)[^;\s"']+/gi, '$1***'],
  [/([?&](?:sig|se|sp|sv|skoid|sktid|skt|ske|sks|skv)=)[^&\s"']+/gi, '$1***'],
  [/((?:secretAccessKey|aws_secret_access_key|sessionToken|password)["']?\s*[:=]\s*["']?)[^"',\s}]+/gi, '$1***'],
  [/(Bearer\s+)[\w.~+/-]+=*/g, '$1***'],
  // MongoDB's AWS authentication in a URL: authMechanismProperties=AWS_SESSION_TOKEN:<token>, maybe URL-encoded.
  [/(AWS_SESSION_TOKEN(?::|%3A))[^,&\s"']+/gi, '$1***'],
];

/**
 * Masks secrets in a text (an error message, a log line): URL passwords (everything between
 * `user:` and the last `@` on the line, so one holding `@`, `/` or a space is masked whole),
 * `AccountKey=`, SAS signatures, AWS secret keys and session tokens, bearer tokens.
 *
 * @example
 * ```ts
 * redactSecrets('mongodb://app:hunter2@db:27017'); // 'mongodb://app:***@db:27017'
 * redactSecrets('mongodb://app:p@ss/w rd@db:27017'); // 'mongodb://app:***@db:27017'
 * ```
 */
export function redactSecrets(text: string): string {
  return SECRETS.reduce((masked, [pattern, replacement]) => masked.replace(pattern, replacement), text);
}
