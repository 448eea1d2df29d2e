/*
 * test_router.c - unit tests for named path parameters (api/router.c):
 * a handler's api_param(ar, "team") is the segment the matched pattern
 * names {team}, and every route table names each parameter once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "api/api_internal.h"

#include "unit_assert.h"

/* Matches method and path as the router does, into ar (with req's pool). */
static const struct api_route *match(h2o_req_t *req, struct api_req *ar, unsigned method, const char *path) {
    unsigned allowed = 0;
    memset(ar, 0, sizeof(*ar));
    ar->req = req;
    ar->route = api_route_match(method, path, strlen(path), ar, &allowed);
    return ar->route;
}

static void assert_param(const struct api_req *ar, const char *name, const char *want) {
    const char *got = api_param(ar, name);
    if (strcmp(got, want) != 0)
        fail_msg("{%s} is \"%s\", expected \"%s\"", name, got, want);
}

static void test_parameters_are_found_by_name(void **state) {
    h2o_req_t req;
    struct api_req ar;
    memset(&req, 0, sizeof(req));
    h2o_mem_init_pool(&req.pool);
    if (match(&req, &ar, M_DELETE, "/v1/orgs/acme/teams/core/service-accounts/ci/tokens/lk_sa_x") == NULL)
        fail_msg("no route for a service account's token");
    assert_param(&ar, "org", "acme");
    assert_param(&ar, "team", "core");
    assert_param(&ar, "sa", "ci");
    assert_param(&ar, "id", "lk_sa_x");
    h2o_mem_clear_pool(&req.pool);
}

static void test_a_name_the_pattern_lacks_is_not_found(void **state) {
    h2o_req_t req;
    struct api_req ar;
    memset(&req, 0, sizeof(req));
    h2o_mem_init_pool(&req.pool);
    if (match(&req, &ar, M_PUT, "/v1/orgs/acme/teams/core/members/alice") == NULL)
        fail_msg("no route for a team member");
    assert_param(&ar, "user", "alice");
    /* Not a prefix, not a longer name, not another route's parameter. */
    assert_null(api_param_find(&ar, "tea"));
    assert_null(api_param_find(&ar, "teams"));
    assert_null(api_param_find(&ar, "sa"));
    assert_null(api_param_find(&ar, ""));
    h2o_mem_clear_pool(&req.pool);
}

static void test_without_a_route_nothing_is_found(void **state) {
    struct api_req ar;
    memset(&ar, 0, sizeof(ar));
    assert_null(api_param_find(&ar, "org"));
}

/* api_param finds a name's first placeholder: a pattern naming one twice
 * would hand every handler the wrong segment for the second. */
static void test_every_pattern_names_each_parameter_once(void **state) {
    const struct api_route *r;
    for (size_t i = 0; (r = api_route_nth(i)) != NULL; i++) {
        const char *pattern = r->pattern;
        const char *names[API_MAX_PARAMS + 1];
        size_t lens[API_MAX_PARAMS + 1], n = 0;
        for (const char *p = pattern; (p = strchr(p, '{')) != NULL;) {
            const char *close = strchr(p, '}');
            if (close == NULL || close == p + 1)
                fail_msg("%s: a placeholder without a name or a closing brace", pattern);
            if (n == API_MAX_PARAMS)
                fail_msg("%s: more than API_MAX_PARAMS (%d) parameters", pattern, API_MAX_PARAMS);
            names[n] = p + 1;
            lens[n] = (size_t)(close - p - 1);
            for (size_t k = 0; k < n; k++)
                if (lens[k] == lens[n] && memcmp(names[k], names[n], lens[n]) == 0)
                    fail_msg("%s: names {%.*s} twice", pattern, (int)lens[n], names[n]);
            n++;
            p = close + 1;
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameters_are_found_by_name),
        cmocka_unit_test(test_a_name_the_pattern_lacks_is_not_found),
        cmocka_unit_test(test_without_a_route_nothing_is_found),
        cmocka_unit_test(test_every_pattern_names_each_parameter_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
