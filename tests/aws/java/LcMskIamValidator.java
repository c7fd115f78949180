/*
 * LcMskIamValidator - a Kafka broker's SASL/OAUTHBEARER server callback that checks MSK IAM
 * tokens the way MSK does, for logclassify's tests (scripts/kafka.sh compiles it and puts it
 * on the broker's IAM listener when LC_KAFKA_IAM=1).
 *
 * The token is a base64url (no padding) SigV4-presigned URL
 *   https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-...&X-Amz-Signature=..
 * This class decodes it, checks the host, the action, the algorithm, the credential scope,
 * the signing time against X-Amz-Expires, then recomputes the SigV4 signature (canonical
 * request with every parameter but X-Amz-Signature and the unsigned User-Agent, re-encoded
 * here; signed header host; the hash of an empty payload) with the secret key that the keys
 * file gives for the access key id, and accepts the token only when it matches.
 *
 * JAAS options: keysFile (a properties file: <access key id>=<secret key>, and optionally
 * <access key id>.sessionToken=<the session token the client must send>; read on every
 * login, so a test can change it), region. A refusal gives the client "invalid_token" and
 * logs the reason (never the secret or the token) to the broker's log.
 */
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerExtensionsValidatorCallback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public class LcMskIamValidator implements AuthenticateCallbackHandler {
    private static final Logger LOG = LoggerFactory.getLogger(LcMskIamValidator.class);
    private static final long SKEW_MS = 5 * 60 * 1000;
    private static final String EMPTY_SHA256 =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static final DateTimeFormatter AMZ_DATE =
        DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");

    private String keysFile;
    private String region;

    /** Why a token was refused. */
    static final class Refused extends Exception {
        Refused(String why) { super(why); }
    }

    @Override
    public void configure(Map<String, ?> configs, String mechanism,
                          List<AppConfigurationEntry> jaas) {
        Map<String, ?> opts = jaas.get(0).getOptions();
        keysFile = (String) opts.get("keysFile");
        region = (String) opts.get("region");
        if (keysFile == null || region == null)
            throw new IllegalArgumentException("LcMskIamValidator needs keysFile and region");
    }

    @Override
    public void close() {}

    @Override
    public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
        for (Callback cb : callbacks) {
            if (cb instanceof OAuthBearerValidatorCallback) {
                OAuthBearerValidatorCallback v = (OAuthBearerValidatorCallback) cb;
                try {
                    v.token(validate(v.tokenValue(), System.currentTimeMillis()));
                } catch (Refused e) {
                    LOG.warn("MSK IAM token refused: {}", e.getMessage());
                    v.error("invalid_token", null, null);
                }
            } else if (cb instanceof OAuthBearerExtensionsValidatorCallback) {
                OAuthBearerExtensionsValidatorCallback x = (OAuthBearerExtensionsValidatorCallback) cb;
                for (String k : x.inputExtensions().map().keySet())
                    x.valid(k);
            } else {
                throw new UnsupportedCallbackException(cb);
            }
        }
    }

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b)
            s.append(String.format("%02x", x & 0xff));
        return s.toString();
    }

    static byte[] hmac(byte[] key, String msg) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(key, "HmacSHA256"));
            return m.doFinal(msg.getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256(String s) {
        try {
            return hex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** RFC 3986 encoding as SigV4 wants it: unreserved characters kept, the rest %XX. */
    static String encode(String s) {
        StringBuilder o = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' || c == '~')
                o.append((char) c);
            else
                o.append(String.format("%%%02X", c));
        }
        return o.toString();
    }

    static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    OAuthBearerToken validate(String token, long nowMs) throws Refused {
        String url;
        try {
            url = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new Refused("not base64url");
        }
        String host = "kafka." + region + ".amazonaws.com";
        String prefix = "https://" + host + "/?";
        if (!url.startsWith(prefix))
            throw new Refused("not a request to " + host);
        Map<String, String> q = new HashMap<>();
        List<String[]> signed = new ArrayList<>();
        for (String pair : url.substring(prefix.length()).split("&")) {
            int eq = pair.indexOf('=');
            if (eq <= 0)
                throw new Refused("malformed query");
            String k = decode(pair.substring(0, eq)), v = decode(pair.substring(eq + 1));
            if (q.put(k, v) != null)
                throw new Refused("parameter " + k + " twice");
            if (!k.equals("X-Amz-Signature") && !k.equals("User-Agent"))
                signed.add(new String[] {encode(k), encode(v)});
        }
        if (!"kafka-cluster:Connect".equals(q.get("Action")))
            throw new Refused("action is not kafka-cluster:Connect");
        if (!"AWS4-HMAC-SHA256".equals(q.get("X-Amz-Algorithm")))
            throw new Refused("algorithm is not AWS4-HMAC-SHA256");
        if (!"host".equals(q.get("X-Amz-SignedHeaders")))
            throw new Refused("signed headers are not host");
        String date = q.get("X-Amz-Date"), cred = q.get("X-Amz-Credential");
        String sig = q.get("X-Amz-Signature"), expires = q.get("X-Amz-Expires");
        if (date == null || cred == null || sig == null || expires == null)
            throw new Refused("a required parameter is missing");
        String[] scope = cred.split("/");
        if (scope.length != 5 || !scope[1].equals(date.substring(0, Math.min(8, date.length())))
                || !scope[2].equals(region) || !scope[3].equals("kafka-cluster")
                || !scope[4].equals("aws4_request"))
            throw new Refused("credential scope is not <date>/" + region + "/kafka-cluster/aws4_request");
        long signedAt, lifetimeS;
        try {
            signedAt = LocalDateTime.parse(date, AMZ_DATE).toInstant(ZoneOffset.UTC).toEpochMilli();
            lifetimeS = Long.parseLong(expires);
        } catch (RuntimeException e) {
            throw new Refused("malformed X-Amz-Date or X-Amz-Expires");
        }
        if (lifetimeS < 1 || lifetimeS > 900)
            throw new Refused("X-Amz-Expires out of range");
        if (nowMs < signedAt - SKEW_MS)
            throw new Refused("signed in the future");
        if (nowMs > signedAt + lifetimeS * 1000)
            throw new Refused("expired");

        Properties keys = new Properties();
        try (InputStream in = new FileInputStream(keysFile)) {
            keys.load(in);
        } catch (IOException e) {
            throw new Refused("keys file unreadable");
        }
        String akid = scope[0], secret = keys.getProperty(akid);
        if (secret == null)
            throw new Refused("unknown access key id");
        String wantToken = keys.getProperty(akid + ".sessionToken");
        if (wantToken != null && !wantToken.equals(q.get("X-Amz-Security-Token")))
            throw new Refused("wrong session token");

        Collections.sort(signed, (a, b) -> a[0].equals(b[0]) ? a[1].compareTo(b[1]) : a[0].compareTo(b[0]));
        StringBuilder cq = new StringBuilder();
        for (String[] kv : signed)
            cq.append(cq.length() == 0 ? "" : "&").append(kv[0]).append('=').append(kv[1]);
        String canonical = "GET\n/\n" + cq + "\nhost:" + host + "\n\nhost\n" + EMPTY_SHA256;
        String toSign = "AWS4-HMAC-SHA256\n" + date + "\n" + scope[1] + "/" + region
            + "/kafka-cluster/aws4_request\n" + sha256(canonical);
        byte[] k = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), scope[1]);
        k = hmac(k, region);
        k = hmac(k, "kafka-cluster");
        k = hmac(k, "aws4_request");
        String want = hex(hmac(k, toSign));
        if (!MessageDigest.isEqual(want.getBytes(StandardCharsets.US_ASCII),
                                   sig.getBytes(StandardCharsets.US_ASCII)))
            throw new Refused("signature does not match (access key id " + akid + ")");

        final long expiry = signedAt + lifetimeS * 1000;
        final String principal = "msk-iam-" + akid;
        LOG.info("MSK IAM token accepted for {} (valid until {})", principal, expiry);
        return new OAuthBearerToken() {
            public String value() { return token; }
            public Set<String> scope() { return Collections.emptySet(); }
            public long lifetimeMs() { return expiry; }
            public String principalName() { return principal; }
            public Long startTimeMs() { return signedAt; }
        };
    }
}
