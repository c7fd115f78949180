/*
 * test_aws_sources.c - the credential sources that speak HTTP (src/aws_chain.c,
 * src/aws_sts.c), the cache's renewal (src/aws_provider.c) and the MSK IAM token refresh
 * with a real librdkafka client (src/msk_iam.c), against tests/aws/fake_aws.py on
 * 127.0.0.1 (IMDSv2, ECS, STS stand-ins):
 *   IMDSv2: the token PUT comes first with its TTL header; later GETs carry the token; a
 *     GET without it is refused (401); a refused token, the IMDSv1 fallback (and
 *     AWS_EC2_METADATA_V1_DISABLED), AWS_EC2_METADATA_DISABLED, a dead endpoint, an endpoint
 *     that never answers (bounded by the timeouts), a broken answer;
 *   ECS: relative URI, full URI with the Authorization header (variable and file), a wrong
 *     token, a refused URI, precedence over IMDS and below the environment;
 *   STS AssumeRole: signed with the chain's credentials (checked by the server), the
 *     session token sent, a wrong secret refused;
 *   web identity: AssumeRoleWithWebIdentity with the token file's token, unsigned, before
 *     ECS and IMDS; a refused token stops the chain;
 *   expiry and renewal: credentials near their expiry are fetched again; the refresh gives
 *     librdkafka a new token; librdkafka itself calls the refresh callback;
 *   secrets: no secret, session token or MSK token appears in any log line or error string
 *     of all of the above (standard error captured at debug level).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "lc_aws.h"
#include "lc_log.h"
#include "lc_msk_iam.h"

static pid_t server_pid;
static FILE *server_in;
static int port;
static char base[64];
static char tmpdir[64];
static lc_buf_t errors;         /* every error string the tests saw, for the secret check */
static int saved_stderr = -1;
static char stderr_path[128];

/* ---- the fake AWS server ---- */

static int start_server(void)
{
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        return -1;
    server_pid = fork();
    if (server_pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        const char *script = getenv("LC_FAKE_AWS") ? getenv("LC_FAKE_AWS") : "tests/aws/fake_aws.py";
        execlp("python3", "python3", script, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    server_in = fdopen(in[1], "w");
    FILE *o = fdopen(out[0], "r");
    if (!o || fscanf(o, "%d", &port) != 1)
        return -1;
    fclose(o);
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
    return 0;
}

static void stop_server(void)
{
    if (server_in)
        fclose(server_in);       /* the server exits when its standard input closes */
    if (server_pid > 0)
        waitpid(server_pid, NULL, 0);
}

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
    lc_buf_append(ctx, p, size * n);
    return size * n;
}

/* One request to the server; returns the status, the body into *body when not NULL. */
static long http(const char *method, const char *path, const char *header, const char *data,
                 lc_buf_t *body)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", base, path);
    CURL *h = curl_easy_init();
    lc_buf_t sink = {0};
    struct curl_slist *hdrs = header ? curl_slist_append(NULL, header) : NULL;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    if (data)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    lc_buf_putc(&sink, '\0');
    if (body)
        *body = sink;
    else
        lc_buf_free(&sink);
    return status;
}

static void configure(const char *json)
{
    assert_int_equal(http("POST", "/_admin/config", "Content-Type: application/json", json, NULL), 200);
}

/* The server's request log as a JSON array (the caller decrefs). */
static json_t *server_log(void)
{
    lc_buf_t b;
    assert_int_equal(http("GET", "/_admin/log", NULL, NULL, &b), 200);
    json_t *j = json_loads(b.data, 0, NULL);
    lc_buf_free(&b);
    assert_non_null(j);
    return j;
}

static const char *log_get(json_t *log, size_t i, const char *field)
{
    return json_string_value(json_object_get(json_array_get(log, i), field));
}

static const char *log_header(json_t *log, size_t i, const char *name)
{
    return json_string_value(json_object_get(json_object_get(json_array_get(log, i), "headers"), name));
}

/* ---- environment ---- */

static const char *const aws_vars[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
    "AWS_CREDENTIAL_EXPIRATION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_V1_DISABLED", "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
};

static int reset(void **state)
{
    (void)state;
    for (size_t i = 0; i < LC_ARRAY_SIZE(aws_vars); i++)
        unsetenv(aws_vars[i]);
    char path[128];
    snprintf(path, sizeof(path), "%s/none", tmpdir);      /* no shared files */
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    setenv("AWS_CONFIG_FILE", path, 1);
    char imds[96];
    snprintf(imds, sizeof(imds), "%s/", base);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds, 1);
    return http("POST", "/_admin/reset", NULL, "", NULL) == 200 ? 0 : -1;
}

static int resolve(const lc_aws_options_t *opt, lc_aws_credentials_t *c, char *err, size_t n)
{
    int rc = lc_aws_chain_resolve(opt, c, err, n);
    if (rc != 0) {
        lc_buf_puts(&errors, err);
        lc_buf_putc(&errors, '\n');
    }
    return rc;
}

/* Standard error goes through a pipe to a thread that copies it to the real standard
 * error and to a file: everything logged is checked for secrets at the end, and cmocka's
 * own messages stay visible. */
static pthread_t tee_thread;
static int tee_file = -1;

static void *tee_main(void *arg)
{
    int in = (int)(intptr_t)arg;
    char buf[4096];
    ssize_t n;
    while ((n = read(in, buf, sizeof(buf))) > 0) {
        if (write(saved_stderr, buf, (size_t)n) < 0 || write(tee_file, buf, (size_t)n) < 0)
            break;
    }
    close(in);
    return NULL;
}

/* Waits until everything written to standard error so far is in the file. */
static void tee_sync(void)
{
    char mark[64];
    int len = snprintf(mark, sizeof(mark), "tee-sync-%ld\n", (long)lc_now_ms());
    fflush(stderr);
    if (write(2, mark, (size_t)len) < 0)
        return;
    mark[len - 1] = '\0';
    for (int i = 0; i < 200; i++) {
        char *text = NULL, err[128];
        bool seen = lc_aws_read_file(stderr_path, &text, err, sizeof(err)) == 0 && strstr(text, mark);
        free(text);
        if (seen)
            return;
        usleep(10000);
    }
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/lc-aws-sources.XXXXXX");
    if (!mkdtemp(tmpdir) || start_server() != 0)
        return -1;
    snprintf(stderr_path, sizeof(stderr_path), "%s/stderr.log", tmpdir);
    tee_file = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int p[2];
    if (tee_file < 0 || pipe(p) != 0)
        return -1;
    fflush(stderr);
    saved_stderr = dup(2);
    dup2(p[1], 2);
    close(p[1]);
    pthread_create(&tee_thread, NULL, tee_main, (void *)(intptr_t)p[0]);
    lc_log_set_level(LC_LOG_DEBUG);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    stop_server();
    if (saved_stderr >= 0) {
        fflush(stderr);
        dup2(saved_stderr, 2);          /* closes the pipe's last writer: the thread ends */
        pthread_join(tee_thread, NULL);
        close(saved_stderr);
        close(tee_file);
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return -1;
    lc_buf_free(&errors);
    return 0;
}

/* ---- IMDSv2 ---- */

static void imds_v2_token_first(void **state)
{
    (void)state;
    lc_aws_options_t opt = {.region = "eu-west-1"};
    lc_aws_credentials_t c;
    char err[1024];
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), 0);
    assert_string_equal(c.source, "EC2 instance metadata (role lc-test-role)");
    assert_memory_equal(c.access_key_id, "ASIALCIMDS", 10);
    assert_non_null(strstr(c.secret_access_key, "S3KR1T"));
    assert_non_null(strstr(c.session_token, "T0K3N"));
    assert_true(c.expires_ms > lc_wall_ms() + 3500000);

    json_t *log = server_log();
    assert_int_equal(json_array_size(log), 3);
    assert_string_equal(log_get(log, 0, "method"), "PUT");
    assert_string_equal(log_get(log, 0, "path"), "/latest/api/token");
    assert_string_equal(log_header(log, 0, "X-aws-ec2-metadata-token-ttl-seconds"), "21600");
    assert_null(log_header(log, 0, "X-aws-ec2-metadata-token"));
    assert_string_equal(log_get(log, 1, "path"), "/latest/meta-data/iam/security-credentials/");
    assert_string_equal(log_get(log, 2, "path"), "/latest/meta-data/iam/security-credentials/lc-test-role");
    const char *tok = log_header(log, 1, "X-aws-ec2-metadata-token");
    assert_non_null(tok);
    assert_string_equal(tok, log_header(log, 2, "X-aws-ec2-metadata-token"));
    json_decref(log);

    /* the server really wants the token: without it, 401 */
    assert_int_equal(http("GET", "/latest/meta-data/iam/security-credentials/", NULL, NULL, NULL), 401);
    assert_int_equal(http("PUT", "/latest/api/token", NULL, "", NULL), 400);   /* no TTL */
    lc_aws_credentials_wipe(&c);
}

static void imds_refusals(void **state)
{
    (void)state;
    lc_aws_options_t opt = {.region = "eu-west-1"};
    lc_aws_credentials_t c;
    char err[1024];

    /* no IMDSv2 (PUT refused with 403): IMDSv1 as botocore does, unless it is disabled */
    configure("{\"imds_mode\": \"v1only\"}");
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), 0);
    json_t *log = server_log();
    assert_null(log_header(log, 1, "X-aws-ec2-metadata-token"));
    json_decref(log);
    setenv("AWS_EC2_METADATA_V1_DISABLED", "true", 1);
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "HTTP 403"));
    unsetenv("AWS_EC2_METADATA_V1_DISABLED");

    /* a Code other than Success, a broken answer */
    configure("{\"imds_mode\": \"expired_code\"}");
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "\"Expired\", not Success"));
    configure("{\"imds_mode\": \"garbage\"}");
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a JSON object"));

    /* disabled: nothing is asked */
    configure("{\"imds_mode\": \"v2\"}");
    http("POST", "/_admin/reset", NULL, "", NULL);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "AWS_EC2_METADATA_DISABLED"));
    log = server_log();
    assert_int_equal(json_array_size(log), 0);
    json_decref(log);
    unsetenv("AWS_EC2_METADATA_DISABLED");

    /* the options' endpoint wins over the variable; a dead one fails at once */
    opt.imds_endpoint = "http://127.0.0.1:1";
    int64_t t0 = lc_now_ms();
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), -1);
    assert_true(lc_now_ms() - t0 < 1500);
    assert_non_null(strstr(err, "127.0.0.1:1"));
    opt.imds_endpoint = NULL;

    /* an endpoint that never answers is given up within the timeouts (1 s connect, 2 s
     * per request; the PUT, then the IMDSv1 attempt) */
    configure("{\"imds_mode\": \"hang\"}");
    t0 = lc_now_ms();
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), -1);
    int64_t took = lc_now_ms() - t0;
    assert_true(took >= 1900 && took < 4800);
    assert_non_null(strstr(err, "EC2 instance metadata"));
    configure("{\"imds_mode\": \"v2\"}");
}

/* ---- ECS ---- */

static void ecs_relative_and_full(void **state)
{
    (void)state;
    lc_aws_options_t opt = {.region = "eu-west-1", .ecs_endpoint = base};
    lc_aws_credentials_t c;
    char err[1024];
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/ecs/v2/credentials/abc-123", 1);
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), 0);
    assert_string_equal(c.source, "ECS container credentials");
    assert_memory_equal(c.access_key_id, "ASIALCECS", 9);
    assert_true(c.expires_ms > 0);
    json_t *log = server_log();
    assert_int_equal(json_array_size(log), 1);      /* ECS wins over IMDS */
    assert_string_equal(log_get(log, 0, "path"), "/ecs/v2/credentials/abc-123");
    assert_null(log_header(log, 0, "Authorization"));
    json_decref(log);

    /* the environment's keys come before ECS */
    setenv("AWS_ACCESS_KEY_ID", "AKIDLCENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-S3KR1T", 1);
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), 0);
    assert_string_equal(c.source, "environment");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");

    /* a configured ECS that fails stops the chain (no silent fall-through to IMDS) */
    configure("{\"ecs_mode\": \"500\"}");
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "HTTP 500"));
    configure("{\"ecs_mode\": \"garbage\"}");
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a JSON object"));
    configure("{\"ecs_mode\": \"ok\"}");
    unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");

    /* full URI with the Authorization header from the variable ... */
    char full[128];
    snprintf(full, sizeof(full), "%s/full/creds", base);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", full, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ECSAUTH-t0ken", 1);
    http("POST", "/_admin/reset", NULL, "", NULL);
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), 0);
    assert_memory_equal(c.access_key_id, "ASIALCECS", 9);
    log = server_log();
    assert_string_equal(log_header(log, 0, "Authorization"), "ECSAUTH-t0ken");
    json_decref(log);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ECSAUTH-wrong", 1);
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "HTTP 401"));
    /* ... and from the file, which wins over the variable */
    char tf[128];
    snprintf(tf, sizeof(tf), "%s/ecs-token", tmpdir);
    FILE *f = fopen(tf, "w");
    fputs("ECSAUTH-t0ken\n", f);
    fclose(f);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tf, 1);
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), 0);
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");

    /* http to anything but a loopback or the container addresses is refused */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.1/creds", 1);
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "must be https"));
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    lc_aws_credentials_wipe(&c);
}

/* ---- STS AssumeRole ---- */

static void sts_assume_role(void **state)
{
    (void)state;
    char sts[128], err[1024];
    snprintf(sts, sizeof(sts), "%s/sts/", base);
    configure("{\"sts_keys\": {\"AKIDLCSRC\": \"src-S3KR1T\"}, "
              "\"sts_tokens\": {\"AKIDLCSRC\": \"src-T0K3N\"}}");
    setenv("AWS_ACCESS_KEY_ID", "AKIDLCSRC", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "src-S3KR1T", 1);
    setenv("AWS_SESSION_TOKEN", "src-T0K3N", 1);
    lc_aws_options_t opt = {.region = "eu-west-1", .sts_endpoint = sts,
                            .role_arn = "arn:aws:iam::123456789012:role/msk-client",
                            .role_session_name = "lc-test"};
    lc_aws_provider_t *p = lc_aws_provider_new(&opt, err, sizeof(err));
    assert_non_null(p);
    lc_aws_credentials_t c;
    if (lc_aws_provider_get(p, lc_wall_ms(), &c, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_string_equal(c.source, "STS AssumeRole");
    assert_memory_equal(c.access_key_id, "ASIALCSTS", 9);
    assert_non_null(strstr(c.secret_access_key, "S3KR1T"));
    size_t n = strlen(c.session_token);
    assert_true(n > 2 && strcmp(c.session_token + n - 2, "&x") == 0);   /* &amp; decoded */
    json_t *log = server_log();
    assert_int_equal(json_array_size(log), 1);
    assert_string_equal(log_get(log, 0, "method"), "POST");
    assert_string_equal(log_header(log, 0, "X-Amz-Security-Token"), "src-T0K3N");
    assert_non_null(strstr(log_header(log, 0, "Authorization"),
                           "Credential=AKIDLCSRC/"));
    assert_non_null(strstr(log_header(log, 0, "Authorization"),
                           "/eu-west-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="));
    json_decref(log);

    /* role credentials near their expiry are assumed again (the source ones are still good) */
    int64_t later = c.expires_ms - 299000;
    assert_int_equal(lc_aws_provider_get(p, later, &c, err, sizeof(err)), 0);
    assert_int_equal(lc_aws_provider_fetches(p), 2);
    lc_aws_provider_free(p);

    /* a wrong secret: the server's signature check refuses it, and says so */
    setenv("AWS_SECRET_ACCESS_KEY", "wrong-S3KR1T", 1);
    p = lc_aws_provider_new(&opt, err, sizeof(err));
    assert_int_equal(lc_aws_provider_get(p, lc_wall_ms(), &c, err, sizeof(err)), -1);
    lc_buf_puts(&errors, err);
    assert_non_null(strstr(err, "HTTP 403 SignatureDoesNotMatch"));
    lc_aws_provider_free(p);
    lc_aws_credentials_wipe(&c);
}

static void web_identity(void **state)
{
    (void)state;
    char sts[128], err[1024], tf[128];
    snprintf(sts, sizeof(sts), "%s/sts/", base);
    snprintf(tf, sizeof(tf), "%s/web-token", tmpdir);
    FILE *f = fopen(tf, "w");
    fputs("WEBID-t0ken\n", f);
    fclose(f);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tf, 1);
    lc_aws_options_t opt = {.region = "eu-west-1", .sts_endpoint = sts};
    lc_aws_credentials_t c;
    /* without AWS_ROLE_ARN the source is not configured: on to the next (IMDS here) */
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), 0);
    assert_memory_equal(c.access_key_id, "ASIALCIMDS", 10);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa", 1);
    setenv("AWS_ROLE_SESSION_NAME", "lc-pod", 1);
    http("POST", "/_admin/reset", NULL, "", NULL);
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), 0);
    assert_string_equal(c.source, "STS AssumeRoleWithWebIdentity");
    assert_memory_equal(c.access_key_id, "ASIALCSTS", 9);
    assert_true(c.expires_ms > lc_wall_ms());
    json_t *log = server_log();
    assert_int_equal(json_array_size(log), 1);                 /* before ECS and IMDS */
    assert_null(log_header(log, 0, "Authorization"));          /* unsigned */
    json_decref(log);
    /* the token is refused: the chain stops there with STS's reason */
    f = fopen(tf, "w");
    fputs("WEBID-wrong\n", f);
    fclose(f);
    assert_int_equal(resolve(&opt, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "HTTP 403 InvalidIdentityToken"));
    unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    unsetenv("AWS_ROLE_ARN");
    unsetenv("AWS_ROLE_SESSION_NAME");
    lc_aws_credentials_wipe(&c);
}

/* ---- expiry, renewal, and the librdkafka refresh ---- */

static void imds_renewal(void **state)
{
    (void)state;
    configure("{\"ttl\": 400}");
    lc_aws_options_t opt = {.region = "eu-west-1"};     /* default margin: 300 s */
    char err[1024];
    lc_aws_provider_t *p = lc_aws_provider_new(&opt, err, sizeof(err));
    lc_aws_credentials_t a, b;
    int64_t now = lc_wall_ms();
    assert_int_equal(lc_aws_provider_get(p, now, &a, err, sizeof(err)), 0);
    assert_int_equal(lc_aws_provider_get(p, now + 95000, &b, err, sizeof(err)), 0);
    assert_string_equal(a.access_key_id, b.access_key_id);     /* 305 s left: cached */
    assert_int_equal(lc_aws_provider_fetches(p), 1);
    assert_int_equal(lc_aws_provider_get(p, now + 101000, &b, err, sizeof(err)), 0);
    assert_string_not_equal(a.access_key_id, b.access_key_id); /* 299 s left: renewed */
    assert_int_equal(lc_aws_provider_fetches(p), 2);
    json_t *log = server_log();
    assert_int_equal(json_array_size(log), 6);                 /* PUT, GET, GET twice */
    assert_string_equal(log_get(log, 3, "method"), "PUT");
    json_decref(log);
    lc_aws_provider_free(p);
    lc_aws_credentials_wipe(&a);
    lc_aws_credentials_wipe(&b);
}

static rd_kafka_t *iam_client(lc_msk_iam_t *iam, bool background)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:1", err, sizeof(err)),
                     RD_KAFKA_CONF_OK);
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
    rd_kafka_conf_set_opaque(conf, iam);
    assert_int_equal(lc_msk_iam_conf_set(conf, lc_msk_iam_opaque_refresh_cb, err, sizeof(err)),
                     0);
    char v[64];
    size_t n = sizeof(v);
    rd_kafka_conf_get(conf, "sasl.mechanism", v, &n);
    assert_string_equal(v, "OAUTHBEARER");
    n = sizeof(v);
    rd_kafka_conf_get(conf, "security.protocol", v, &n);
    assert_string_equal(v, "sasl_ssl");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    assert_non_null(rk);
    if (background)
        assert_int_equal(lc_msk_iam_enable_background(rk, err, sizeof(err)), 0);
    return rk;
}

static void refresh_gives_new_tokens(void **state)
{
    (void)state;
    configure("{\"ttl\": 3600}");
    lc_aws_options_t opt = {.region = "eu-west-1"};
    char err[512];
    lc_msk_iam_t *iam = lc_msk_iam_new(&opt, NULL, err, sizeof(err));
    assert_non_null(iam);

    /* librdkafka asks for the first token itself, on its background thread */
    rd_kafka_t *rk = iam_client(iam, true);
    lc_msk_iam_stats_t st;
    for (int i = 0; i < 100; i++) {
        lc_msk_iam_stats(iam, &st);
        if (st.refreshes)
            break;
        usleep(50000);
    }
    assert_int_equal(st.refreshes, 1);
    assert_int_equal(st.failures, 0);
    assert_int_equal(st.credential_fetches, 1);
    int64_t now = lc_wall_ms();
    assert_true(st.last_lifetime_ms > now + 890000 && st.last_lifetime_ms <= now + 900000);
    char first[17];
    strcpy(first, st.fingerprint);

    /* a later refresh: a new token from the same credentials */
    assert_int_equal(lc_msk_iam_refresh(iam, rk, now + 60000), 0);
    lc_msk_iam_stats(iam, &st);
    assert_string_not_equal(st.fingerprint, first);
    assert_int_equal(st.credential_fetches, 1);
    assert_int_equal(st.last_lifetime_ms, (now + 60000) / 1000 * 1000 + 900000);

    /* near the credentials' expiry: new credentials, and a token that does not outlive
     * them (these last 600 s) */
    configure("{\"ttl\": 600}");
    assert_int_equal(lc_msk_iam_refresh(iam, rk, now + 3301000), 0);
    lc_msk_iam_stats(iam, &st);
    assert_int_equal(st.credential_fetches, 2);
    assert_int_equal(st.refreshes, 3);
    assert_true(st.last_lifetime_ms <= lc_wall_ms() + 600000);
    assert_true(st.last_lifetime_ms > lc_wall_ms() + 590000);
    rd_kafka_destroy(rk);

    /* no credentials: the failure goes to librdkafka, counted, with the reason logged */
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    lc_msk_iam_t *none = lc_msk_iam_new(&opt, NULL, err, sizeof(err));
    rk = iam_client(none, false);
    assert_int_equal(lc_msk_iam_refresh(none, rk, lc_wall_ms()), -1);
    lc_msk_iam_stats(none, &st);
    assert_int_equal(st.failures, 1);
    rd_kafka_destroy(rk);
    lc_msk_iam_free(none);
    lc_msk_iam_free(iam);
    unsetenv("AWS_EC2_METADATA_DISABLED");

    /* bad options */
    opt.region = "EU WEST";
    assert_null(lc_msk_iam_new(&opt, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "region"));
}

/* ---- no secret anywhere ---- */

static bool contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

static void no_secret_in_logs_or_errors(void **state)
{
    (void)state;
    /* more paths that put text together from secrets: an MSK token made and refused */
    lc_aws_credentials_t c = {.access_key_id = "AKIDLCMSK", .secret_access_key = "msk-S3KR1T",
                              .session_token = "msk-T0K3N"};
    lc_buf_t tok = {0};
    int64_t life;
    char err[512];
    assert_int_equal(lc_msk_iam_token(&c, "eu-west-1", lc_wall_ms(), NULL, &tok, &life, err,
                                      sizeof(err)), 0);
    lc_buf_putc(&tok, '\0');
    char token_part[41];
    snprintf(token_part, sizeof(token_part), "%s", tok.data + tok.len - 41);
    assert_int_equal(lc_msk_iam_token(&c, "bad region", 0, NULL, &tok, &life, err,
                                      sizeof(err)), -1);
    lc_buf_puts(&errors, err);
    c.secret_access_key[0] = '\0';
    assert_int_equal(lc_msk_iam_token(&c, "eu-west-1", 0, NULL, &tok, &life, err,
                                      sizeof(err)), -1);
    lc_buf_puts(&errors, err);
    lc_buf_free(&tok);

    tee_sync();
    char *logged = NULL;
    assert_int_equal(lc_aws_read_file(stderr_path, &logged, err, sizeof(err)), 0);
    lc_buf_putc(&errors, '\0');
    /* the test saw the log it checks: the paths above did log and fail */
    assert_true(contains(logged, "credentials from EC2 instance metadata"));
    assert_true(contains(logged, "no MSK IAM token"));
    assert_true(contains(errors.data, "SignatureDoesNotMatch"));
    static const char *const markers[] = {"S3KR1T", "T0K3N", "IMDSTOK", "ECSAUTH", "AKIDLC",
                                          "ASIALC", "WEBID"};
    for (size_t i = 0; i < LC_ARRAY_SIZE(markers); i++) {
        if (contains(logged, markers[i]))
            fail_msg("a secret (%s...) reached the log:\n%s", markers[i], logged);
        if (contains(errors.data, markers[i]))
            fail_msg("a secret (%s...) reached an error string:\n%s", markers[i], errors.data);
    }
    assert_false(contains(logged, token_part));
    assert_false(contains(errors.data, token_part));
    free(logged);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(imds_v2_token_first, reset),
        cmocka_unit_test_setup(imds_refusals, reset),
        cmocka_unit_test_setup(ecs_relative_and_full, reset),
        cmocka_unit_test_setup(sts_assume_role, reset),
        cmocka_unit_test_setup(web_identity, reset),
        cmocka_unit_test_setup(imds_renewal, reset),
        cmocka_unit_test_setup(refresh_gives_new_tokens, reset),
        cmocka_unit_test_setup(no_secret_in_logs_or_errors, reset),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
