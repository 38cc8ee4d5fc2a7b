/**
 * Tokens in connect_url and live_view_url: JWTs (HS256) signed by the control plane. A CDP token
 * claims one workspace and one session and is checked against the session's state on every connect,
 * so it is good for the session's whole life (keep-alives included) and useless after it ends.
 */
import { SignJWT, errors, jwtVerify } from 'jose';

const ISSUER = 'ventus-sessions';
const CDP_TOKEN_CACHE = 10_000;
export type TokenAudience = 'cdp' | 'live-view' | 'recording';

export interface TokenClaims {
  workspaceId: string;
  sessionId: string;
  audience: TokenAudience;
}

/** How long a live_view_url opens the viewer. */
export const LIVE_VIEW_TOKEN_SECONDS = 300;

export interface LiveViewClaims extends TokenClaims {
  /** False: the proxy drops the viewer's keyboard, mouse and clipboard messages. */
  interactive: boolean;
  expiresAt: Date;
}

/** A viewer token that was valid but is past its expiry. */
export class LiveViewTokenExpiredError extends Error {
  override name = 'LiveViewTokenExpiredError';
  constructor() {
    super('the live view token has expired');
  }
}

export class SessionTokens {
  /** Imported once: signing with raw bytes would import the key again for every token. */
  private readonly key: Promise<CryptoKey>;
  private readonly cdpTokens = new Map<string, string>();

  constructor(secret: string) {
    this.key = crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    this.key.catch(() => {}); // an unusable secret fails each sign/verify, not the process
  }

  /**
   * The CDP token of a session. `iat` is the session's creation time, so the same session always
   * gets the same token (an idempotent replay returns an identical connect_url).
   */
  async cdpToken(workspaceId: string, sessionId: string, createdAt: Date): Promise<string> {
    const cacheKey = `${workspaceId}/${sessionId}/${createdAt.getTime()}`;
    let token = this.cdpTokens.get(cacheKey);
    if (token === undefined) {
      token = await this.signCdpToken(workspaceId, sessionId, createdAt);
      // A bounded cache (oldest out first): every GET of a session answers with its connect_url.
      if (this.cdpTokens.size >= CDP_TOKEN_CACHE) this.cdpTokens.delete(this.cdpTokens.keys().next().value!);
      this.cdpTokens.set(cacheKey, token);
    }
    return token;
  }

  private async signCdpToken(workspaceId: string, sessionId: string, createdAt: Date): Promise<string> {
    return new SignJWT({ ws: workspaceId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience('cdp')
      .setSubject(sessionId)
      .setIssuedAt(Math.floor(createdAt.getTime() / 1000))
      .sign(await this.key);
  }

  /**
   * A short-lived viewer token for the live view (`/v/{session_id}?token=`): 5 minutes to open the
   * viewer. Read-only unless `interactive` (then the proxy lets keyboard, mouse and clipboard through).
   */
  async liveViewToken(
    workspaceId: string,
    sessionId: string,
    now: Date = new Date(),
    options: { interactive?: boolean } = {},
  ): Promise<string> {
    const iat = Math.floor(now.getTime() / 1000);
    return new SignJWT({ ws: workspaceId, interactive: options.interactive === true })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience('live-view')
      .setSubject(sessionId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + LIVE_VIEW_TOKEN_SECONDS)
      .sign(await this.key);
  }

  /**
   * Verifies a viewer token (signature, issuer, audience `live-view`, expiry). Throws
   * {@link LiveViewTokenExpiredError} for a genuine token past its `exp`, so a viewer can say "link
   * expired" rather than "invalid link"; throws a plain Error on anything else. `ignoreExpiry`
   * accepts an expired token (the claims only, to say why a viewer was disconnected).
   */
  async verifyLiveView(
    token: string,
    now: Date = new Date(),
    options: { ignoreExpiry?: boolean } = {},
  ): Promise<LiveViewClaims> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, await this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: 'live-view',
        currentDate: now,
        requiredClaims: ['exp'],
        // Only to tell an ended session from an expired link (the viewer's status); never to grant access.
        ...(options.ignoreExpiry && { clockTolerance: Number.MAX_SAFE_INTEGER }),
      }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new LiveViewTokenExpiredError();
      throw err;
    }
    if (typeof payload.sub !== 'string' || typeof payload.ws !== 'string' || typeof payload.exp !== 'number')
      throw new Error('token lacks claims');
    return {
      workspaceId: payload.ws,
      sessionId: payload.sub,
      audience: 'live-view',
      interactive: payload.interactive === true,
      expiresAt: new Date(payload.exp * 1000),
    };
  }

  /**
   * The token of a signed `recording_url`: one session's recording, until `expiresAt`. Verified by
   * `verify(token, 'recording')` (jose rejects it after `exp`).
   */
  async recordingToken(
    workspaceId: string,
    sessionId: string,
    expiresAt: Date,
    now = new Date(),
  ): Promise<string> {
    return new SignJWT({ ws: workspaceId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience('recording')
      .setSubject(sessionId)
      .setIssuedAt(Math.floor(now.getTime() / 1000))
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(await this.key);
  }

  /** Verifies signature, algorithm, issuer and audience. Throws on anything else. */
  async verify(token: string, audience: TokenAudience): Promise<TokenClaims> {
    const { payload } = await jwtVerify(token, await this.key, {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience,
    });
    if (typeof payload.sub !== 'string' || typeof payload.ws !== 'string')
      throw new Error('token lacks claims');
    return { workspaceId: payload.ws, sessionId: payload.sub, audience };
  }
}
