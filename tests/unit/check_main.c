/* One runner for every Check suite: `unit_tests [suite]`. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites_gen.h"

int main(int argc, char **argv)
{
    SRunner *sr = NULL;
    int failed, found = 0;
    size_t n = sizeof(unit_suites) / sizeof(unit_suites[0]);

    for (size_t i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], unit_suites[i].name) != 0)
            continue;
        if (sr == NULL)
            sr = srunner_create(unit_suites[i].fn());
        else
            srunner_add_suite(sr, unit_suites[i].fn());
        found++;
    }
    if (!found) {
        fprintf(stderr, "unit_tests: no suite named %s\n", argc > 1 ? argv[1] : "(any)");
        return 2;
    }
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
