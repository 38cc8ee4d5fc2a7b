/**
 * Tokens in connect_url and live_view_url: JWTs (HS256) signed by the control plane. A CDP token
 * claims one workspace and one session and is checked against the session's state on every connect,
 * so it is good for the session's whole life (keep-alives included) and useless after it ends.
 * Every token names its signing key in the header (`kid`); a retired key still verifies, but only for
 * sessions created while it could sign (see {@link SessionTokensOptions}).
 */
import { SignJWT, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { KEY_PROPAGATION_MS, SigningKeyring, type HeldKey } from './signing-keyring.ts';

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
  /** When the link was made (a revocation refuses links made before it). */
  issuedAt: Date;
  expiresAt: Date;
}

/** A viewer token that was valid but is past its expiry. */
export class LiveViewTokenExpiredError extends Error {
  override name = 'LiveViewTokenExpiredError';
  constructor() {
    super('the live view token has expired');
  }
}

export interface SessionTokensOptions {
  /**
   * When a session was created (undefined: no such session). A token verified by a retired key is
   * accepted only for a session created before that key's retirement (plus the propagation window):
   * whoever learnt a retired key cannot mint tokens for sessions made after the rotation.
   */
  sessionCreatedAt?: (sessionId: string) => Promise<Date | undefined>;
}

export class SessionTokens {
  readonly keys: SigningKeyring;
  private readonly cdpTokens = new Map<string, string>();

  /** A secret alone: one fixed key (tests and tools); the services pass the shared keyring. */
  constructor(
    keys: string | SigningKeyring,
    private readonly options: SessionTokensOptions = {},
  ) {
    this.keys = typeof keys === 'string' ? SigningKeyring.fixed(keys) : keys;
  }

  private async signer(): Promise<{ header: { alg: 'HS256'; typ: 'JWT'; kid: string }; key: CryptoKey }> {
    const { kid, key } = await this.keys.signingKey();
    return { header: { alg: 'HS256', typ: 'JWT', kid }, key };
  }

  /**
   * jose's verification with the key the header's kid names. HS256 only, so a token of another
   * algorithm is refused before any key is looked up (or any reload is caused).
   */
  private async verifyWithKid(
    token: string,
    options: JWTVerifyOptions & { audience: TokenAudience },
  ): Promise<JWTPayload> {
    let used: HeldKey | undefined;
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        used = await this.keys.verificationKey(header.kid);
        if (!used) throw new Error('unknown signing key');
        return used.key;
      },
      { ...options, algorithms: ['HS256'], issuer: ISSUER },
    );
    if (used?.retiredAt) await this.assertSignedWhileCurrent(used.retiredAt, payload.sub);
    return payload;
  }

  private async assertSignedWhileCurrent(retiredAt: Date, sessionId: string | undefined): Promise<void> {
    const lookup = this.options.sessionCreatedAt;
    if (!lookup) return;
    const createdAt = typeof sessionId === 'string' ? await lookup(sessionId) : undefined;
    if (!createdAt || createdAt.getTime() >= retiredAt.getTime() + KEY_PROPAGATION_MS)
      throw new Error('the signing key was retired before this session was created');
  }

  /**
   * The CDP token of a session. `iat` is the session's creation time, so the same session always
   * gets the same token from the same key (an idempotent replay returns an identical connect_url
   * until a rotation; the URL from before keeps working while the session lives).
   */
  async cdpToken(workspaceId: string, sessionId: string, createdAt: Date): Promise<string> {
    const signer = await this.signer();
    // The kid is part of the key: after a rotation the session's URL is signed with the new key.
    const cacheKey = `${signer.header.kid}/${workspaceId}/${sessionId}/${createdAt.getTime()}`;
    let token = this.cdpTokens.get(cacheKey);
    if (token === undefined) {
      token = await this.signCdpToken(signer, workspaceId, sessionId, createdAt);
      // A bounded cache (oldest out first): every GET of a session answers with its connect_url.
      if (this.cdpTokens.size >= CDP_TOKEN_CACHE) this.cdpTokens.delete(this.cdpTokens.keys().next().value!);
      this.cdpTokens.set(cacheKey, token);
    }
    return token;
  }

  private async signCdpToken(
    { header, key }: Awaited<ReturnType<SessionTokens['signer']>>,
    workspaceId: string,
    sessionId: string,
    createdAt: Date,
  ): Promise<string> {
    return new SignJWT({ ws: workspaceId })
      .setProtectedHeader(header)
      .setIssuer(ISSUER)
      .setAudience('cdp')
      .setSubject(sessionId)
      .setIssuedAt(Math.floor(createdAt.getTime() / 1000))
      .sign(key);
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
    const { header, key } = await this.signer();
    return new SignJWT({ ws: workspaceId, interactive: options.interactive === true })
      .setProtectedHeader(header)
      .setIssuer(ISSUER)
      .setAudience('live-view')
      .setSubject(sessionId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + LIVE_VIEW_TOKEN_SECONDS)
      .sign(key);
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
      payload = await this.verifyWithKid(token, {
        audience: 'live-view',
        currentDate: now,
        requiredClaims: ['exp'],
        // Only to tell an ended session from an expired link (the viewer's status); never to grant access.
        ...(options.ignoreExpiry && { clockTolerance: Number.MAX_SAFE_INTEGER }),
      });
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
      issuedAt: new Date((payload.iat ?? 0) * 1000),
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
    const { header, key } = await this.signer();
    return new SignJWT({ ws: workspaceId })
      .setProtectedHeader(header)
      .setIssuer(ISSUER)
      .setAudience('recording')
      .setSubject(sessionId)
      .setIssuedAt(Math.floor(now.getTime() / 1000))
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(key);
  }

  /** Verifies the key (by kid), signature, algorithm, issuer and audience. Throws on anything else. */
  async verify(token: string, audience: TokenAudience): Promise<TokenClaims> {
    const payload = await this.verifyWithKid(token, { audience });
    if (typeof payload.sub !== 'string' || typeof payload.ws !== 'string')
      throw new Error('token lacks claims');
    return { workspaceId: payload.ws, sessionId: payload.sub, audience };
  }
}
