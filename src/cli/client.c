/*
 * client.c - profiles, the config file and HTTP calls for the client
 * commands (client.h).
 */
#include "cli/client.h"
#include "cli/output.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/atomicfile.h"
#include "lib/str.h"

/* Longest answer read from the server. */
#define ANSWER_MAX (16 * 1024 * 1024)

static int copy_flag(char *dst, size_t cap, const char *flag, const char *v) {
    if (v == NULL || *v == '\0') {
        out_error("%s needs a value", flag);
        return CLI_EXIT_USAGE;
    }
    if (strlen(v) >= cap) {
        out_error("%s: too long", flag);
        return CLI_EXIT_USAGE;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

int client_flags(struct client *c, int *argc, char **argv) {
    int out = 0, r = 0;
    for (int i = 0; i < *argc && r == 0; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--profile") == 0)
            r = copy_flag(c->profile, sizeof(c->profile), a, i + 1 < *argc ? argv[++i] : NULL);
        else if (strcmp(a, "--url") == 0)
            r = copy_flag(c->url, sizeof(c->url), a, i + 1 < *argc ? argv[++i] : NULL);
        else if (strcmp(a, "--ca-file") == 0)
            r = copy_flag(c->ca_file, sizeof(c->ca_file), a, i + 1 < *argc ? argv[++i] : NULL);
        else if (strcmp(a, "--insecure") == 0)
            c->insecure = 1;
        else
            argv[out++] = argv[i];
    }
    *argc = out;
    return r;
}

int client_config_path(char *out, size_t cap) {
    const char *x = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int n;
    if (x != NULL && x[0] == '/')
        n = snprintf(out, cap, "%s/latchkey/config.json", x);
    else if (home != NULL && home[0] == '/')
        n = snprintf(out, cap, "%s/.config/latchkey/config.json", home);
    else
        return -1;
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* The config file as JSON (a new, empty object when there is none), or
 * NULL after saying why it cannot be used. */
static json_t *config_load(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return json_pack("{s:{}}", "profiles");
        out_error("cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    if (st.st_uid != getuid() || (st.st_mode & 077) != 0) {
        fprintf(stderr,
                "latchkey: %s may be read by others (mode %03o): it holds tokens, so it is not used; "
                "`chmod 600` it if it is yours\n",
                path, (unsigned)(st.st_mode & 0777));
        return NULL;
    }
    json_error_t jerr;
    json_t *cfg = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(cfg) ||
        (json_object_get(cfg, "profiles") != NULL && !json_is_object(json_object_get(cfg, "profiles")))) {
        out_error("%s is not a latchkey config file (line %d: %s)", path, jerr.line,
                  cfg ? "no profiles object" : jerr.text);
        json_decref(cfg);
        return NULL;
    }
    if (json_object_get(cfg, "profiles") == NULL)
        json_object_set_new(cfg, "profiles", json_object());
    return cfg;
}

static void take(char *dst, size_t cap, json_t *v) {
    const char *s = json_string_value(v);
    if (dst[0] == '\0' && s != NULL && strlen(s) < cap)
        memcpy(dst, s, strlen(s) + 1);
}

static void trim_url(char *url) {
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        url[--n] = '\0';
}

int client_resolve(struct client *c, int need_token) {
    char path[CLIENT_PATH_MAX];
    if (c->profile[0] == '\0') {
        const char *p = getenv("LATCHKEY_PROFILE");
        if (p != NULL && p[0] != '\0' && strlen(p) < sizeof(c->profile))
            memcpy(c->profile, p, strlen(p) + 1);
    }
    const char *env_url = getenv("LATCHKEY_URL"), *env_token = getenv("LATCHKEY_TOKEN");
    if (env_url != NULL && c->url[0] == '\0' && strlen(env_url) < sizeof(c->url))
        memcpy(c->url, env_url, strlen(env_url) + 1);
    if (env_token != NULL && env_token[0] != '\0' && strlen(env_token) < sizeof(c->token))
        memcpy(c->token, env_token, strlen(env_token) + 1);
    /* The file is read only when something is still missing. */
    if ((c->url[0] == '\0' || (need_token && c->token[0] == '\0')) && client_config_path(path, sizeof(path)) == 0) {
        json_t *cfg = config_load(path);
        if (cfg == NULL)
            return CLI_EXIT_ERROR;
        if (c->profile[0] == '\0')
            take(c->profile, sizeof(c->profile), json_object_get(cfg, "current"));
        if (c->profile[0] == '\0')
            memcpy(c->profile, "default", 8);
        json_t *p = json_object_get(json_object_get(cfg, "profiles"), c->profile);
        take(c->url, sizeof(c->url), json_object_get(p, "url"));
        take(c->token, sizeof(c->token), json_object_get(p, "token"));
        take(c->ca_file, sizeof(c->ca_file), json_object_get(p, "ca_file"));
        if (json_is_true(json_object_get(p, "insecure")))
            c->insecure = 1;
        json_decref(cfg);
    }
    if (c->profile[0] == '\0')
        memcpy(c->profile, "default", 8);
    trim_url(c->url);
    if (c->url[0] == '\0') {
        out_error("no server: run `latchkey login URL`, or set LATCHKEY_URL");
        return CLI_EXIT_AUTH;
    }
    if (need_token && c->token[0] == '\0') {
        out_error("not logged in (profile %s): run `latchkey login`, or set LATCHKEY_TOKEN", c->profile);
        return CLI_EXIT_AUTH;
    }
    return 0;
}

static int mkdirs_private(const char *file) {
    char dir[CLIENT_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

int client_save(const struct client *c, int forget) {
    char path[CLIENT_PATH_MAX], err[256];
    if (client_config_path(path, sizeof(path)) != 0) {
        out_error("no home directory to keep the config file in (set HOME or XDG_CONFIG_HOME)");
        return CLI_EXIT_ERROR;
    }
    json_t *cfg = config_load(path);
    if (cfg == NULL)
        return CLI_EXIT_ERROR;
    json_t *profiles = json_object_get(cfg, "profiles");
    if (forget) {
        json_object_del(profiles, c->profile);
        const char *cur = json_string_value(json_object_get(cfg, "current"));
        if (cur != NULL && strcmp(cur, c->profile) == 0)
            json_object_del(cfg, "current");
    } else {
        json_t *p = json_pack("{s:s, s:s}", "url", c->url, "token", c->token);
        if (c->ca_file[0] != '\0')
            json_object_set_new(p, "ca_file", json_string(c->ca_file));
        if (c->insecure)
            json_object_set_new(p, "insecure", json_true());
        json_object_set_new(profiles, c->profile, p);
        json_object_set_new(cfg, "current", json_string(c->profile));
    }
    char *text = json_dumps(cfg, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(cfg);
    int r = 0;
    if (text == NULL || mkdirs_private(path) != 0 ||
        atomicfile_write(path, text, strlen(text), 0600, err, sizeof(err)) != 0) {
        out_error("cannot write %s: %s", path, text == NULL ? "out of memory" : err);
        r = CLI_EXIT_ERROR;
    }
    if (text != NULL) {
        explicit_bzero(text, strlen(text));
        free(text);
    }
    return r;
}

struct answer {
    char *data;
    size_t len, cap;
    int too_big;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg) {
    struct answer *a = arg;
    size_t n = size * nmemb;
    if (a->len + n > ANSWER_MAX) {
        a->too_big = 1;
        return 0;
    }
    if (a->len + n + 1 > a->cap) {
        size_t cap = (a->len + n + 1) * 2;
        char *d = realloc(a->data, cap);
        if (d == NULL)
            return 0;
        a->data = d;
        a->cap = cap;
    }
    memcpy(a->data + a->len, p, n);
    a->len += n;
    return n;
}

int client_call(const struct client *c, const char *method, const char *path, json_t *body, int with_token,
                long *status, json_t **ret) {
    char url[CLIENT_URL_MAX + CLIENT_PATH_MAX], auth[CLIENT_TOKEN_MAX + 32];
    struct answer a = {0};
    struct curl_slist *h = NULL;
    char *text = NULL;
    int r = CLI_EXIT_ERROR;
    *ret = NULL;
    snprintf(url, sizeof(url), "%s%s", c->url, path);
    if (strncmp(c->url, "https://", 8) != 0 && strncmp(c->url, "http://", 7) != 0) {
        out_error("the server URL must start with https:// (or http://)");
        return CLI_EXIT_USAGE;
    }
    CURL *curl = curl_easy_init();
    if (curl == NULL)
        return CLI_EXIT_ERROR;
    h = curl_slist_append(h, "Accept: application/json");
    if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT);
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text ? text : "");
    }
    if (with_token && c->token[0] != '\0') {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
        h = curl_slist_append(h, auth);
        explicit_bzero(auth, sizeof(auth));
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    /* Never another scheme, and no redirect: a server cannot send the
     * token elsewhere, nor from https down to http. */
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "latchkey-cli");
    if (c->ca_file[0] != '\0')
        curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
    if (c->insecure) {
        out_warn("--insecure: the server's certificate is not checked");
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        out_error("cannot reach %s: %s", c->url, a.too_big ? "the answer is too large" : curl_easy_strerror(rc));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    if (a.len > 0) {
        json_error_t jerr;
        *ret = json_loadb(a.data, a.len, 0, &jerr);
        if (*ret == NULL) {
            out_error("%s answered %ld with something that is not JSON: is it a latchkey server?", c->url, *status);
            goto out;
        }
    }
    r = 0;
out:
    if (a.data != NULL)
        explicit_bzero(a.data, a.len);
    free(a.data);
    if (text != NULL) {
        explicit_bzero(text, strlen(text));
        free(text);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(curl);
    return r;
}

int client_fail(long status, json_t *answer) {
    json_t *errors = json_object_get(answer, "errors");
    size_t i;
    json_t *e;
    int said = 0;
    json_array_foreach(errors, i, e) {
        const char *m = json_is_string(e) ? json_string_value(e) : json_string_value(json_object_get(e, "message"));
        if (m != NULL) {
            out_error("%s", m);
            said = 1;
        }
    }
    if (!said)
        out_error("the server answered %ld", status);
    if (status == 401 || status == 403)
        return CLI_EXIT_AUTH;
    if (status == 404)
        return CLI_EXIT_NOTFOUND;
    return CLI_EXIT_ERROR;
}

int client_name_ok(const char *s, int slashes) {
    const char *seg = s;
    if (*s == '\0' || strlen(s) > 512)
        return 0;
    for (const char *p = s;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t)(p - seg);
            if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return 0;
            if (*p == '\0')
                return 1;
            if (!slashes)
                return 0;
            seg = p + 1;
            continue;
        }
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '_' || *p == '~' || *p == '-'))
            return 0;
    }
}

int client_org(const struct client *c, const char *org_flag, char *out, size_t cap) {
    const char *o = org_flag ? org_flag : getenv("LATCHKEY_ORG");
    if (o != NULL && o[0] != '\0') {
        if (!client_name_ok(o, 0) || strlen(o) >= cap) {
            out_error("\"%s\" is not an organisation's name", o);
            return CLI_EXIT_USAGE;
        }
        memcpy(out, o, strlen(o) + 1);
        return 0;
    }
    long status = 0;
    json_t *who = NULL;
    int code = client_call(c, "GET", "/v1/auth/whoami", NULL, 1, &status, &who);
    if (code != 0)
        return code;
    const char *org = json_string_value(json_object_get(json_object_get(who, "principal"), "org"));
    if (status != 200) {
        code = client_fail(status, who);
    } else if (org == NULL || strlen(org) >= cap) {
        out_error("this credential belongs to no organisation: say which with --org ORG");
        code = CLI_EXIT_USAGE;
    } else {
        memcpy(out, org, strlen(org) + 1);
    }
    json_decref(who);
    return code;
}

int client_expect(const struct client *c, const char *method, const char *path, json_t *body, long want, json_t **ret) {
    long status = 0;
    int code = client_call(c, method, path, body, 1, &status, ret);
    if (code == 0 && status != want) {
        code = client_fail(status, *ret);
        json_decref(*ret);
        *ret = NULL;
    }
    return code;
}

int client_wants_help(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

int client_usage(const char *text, int help) {
    fputs(text, help ? stdout : stderr);
    return help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

int client_read_line(FILE *f, char *buf, size_t cap) {
    if (fgets(buf, (int)cap, f) == NULL)
        return -1;
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    else if (!feof(f))
        return -1;
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return 0;
}
