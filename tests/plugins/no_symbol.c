/* Test module that exports no livegate_plugin descriptor. */
int lg_test_no_symbol_marker(void);

int lg_test_no_symbol_marker(void)
{
    return 1;
}
