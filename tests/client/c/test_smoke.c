#include "support.h"
static ts_server srv;
static void up(void) { ts_start(&srv, NULL); }
static void down(void) { ts_cleanup(&srv); }
TestSuite(smoke, .init = up, .fini = down);
Test(smoke, open) {
    skv_client *c = ts_open(&srv);
    skv_close(c);
}
