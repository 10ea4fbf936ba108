/* USER.DELETE's registry: the engine runs the registered purges in its
 * fixed order, whatever the order the families registered them in (their
 * init order is the command table's), and stops at the first failure. */
#include <criterion/criterion.h>
#include <string.h>

#include "domain.h"

static char trace[64];

#define STEP(name, tag, rc)                                                   \
    static int name(struct dom_engine *e, const char *uid, int64_t *removed) { \
        (void)e;                                                              \
        cr_assert_str_eq(uid, "u1");                                          \
        strcat(trace, tag);                                                   \
        *removed += 1;                                                        \
        return rc;                                                            \
    }
STEP(step_ledger, "L", 0)
STEP(step_entity, "E", 0)
STEP(step_user, "U", 0)
STEP(step_idemp, "I", 0)
STEP(step_msg_fails, "M", -1)

Test(purge, fixed_order) {
    struct dom_engine e;
    memset(&e, 0, sizeof e);
    trace[0] = 0;
    /* registered in another order than the one USER.DELETE needs */
    dom_register_purge(&e, "idemp", step_idemp);
    dom_register_purge(&e, "user", step_user);
    dom_register_purge(&e, "entity", step_entity);
    dom_register_purge(&e, "ledger", step_ledger);
    int64_t removed = 0;
    cr_assert_eq(dom_purge_user(&e, "u1", &removed), 0);
    cr_assert_str_eq(trace, "LEUI", "the balance moves first, the IDEMP records go last");
    cr_assert_eq(removed, 4);
}

Test(purge, stops_at_a_failure) {
    struct dom_engine e;
    memset(&e, 0, sizeof e);
    trace[0] = 0;
    dom_register_purge(&e, "user", step_user);
    dom_register_purge(&e, "msg", step_msg_fails);
    dom_register_purge(&e, "ledger", step_ledger);
    int64_t removed = 0;
    cr_assert_eq(dom_purge_user(&e, "u1", &removed), -1);
    cr_assert_str_eq(trace, "LM", "nothing after the failing step runs (dispatch drops the batch)");
}
