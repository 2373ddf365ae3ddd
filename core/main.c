/* Command line entry point: options, config check mode, help generated from the option tables. */
#include "config.h"

#include <dirent.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "gateway.h"
#include "log.h"
#include "options.h"
#include "plugin.h"
#include "rules.h"
#include "settings.h"

typedef struct lg_cli {
    const char *config_path;
    const char *plugin_dir;
    int check_only;
} lg_cli;

static void lg_print_usage(FILE *out)
{
    fprintf(out,
            "Usage: livegate [-c FILE] [-t] [--plugin-dir DIR]\n"
            "\n"
            "Real-time streaming gateway: sources feed channels, clients follow them over\n"
            "Server-Sent Events and WebSocket.\n"
            "\n"
            "  -c, --config FILE     configuration file (default: the embedded conf/livegate.yaml)\n"
            "  -t, --test            check the configuration, load the plugins and exit;\n"
            "                        exits non-zero on any error and binds no port\n"
            "  -p, --plugin-dir DIR  directory with the plugin modules (default " LG_PLUGIN_DIR ")\n"
            "  -h, --help            print this help with every configuration option\n"
            "  -V, --version         print the version\n"
            "\n"
            "Signals: SIGTERM and SIGINT stop gracefully, SIGHUP reopens the log file.\n");
}

/* Print the options of every plugin module found in DIR. */
static void lg_print_plugin_help(FILE *out, const char *dir)
{
    lg_module_set modules;
    struct dirent *entry;
    DIR *listing = opendir(dir);

    if (listing == NULL) {
        fprintf(out, "\nNo plugins listed: cannot open plugin directory %s (use --plugin-dir).\n", dir);
        return;
    }

    lg_module_set_init(&modules, dir);
    while ((entry = readdir(listing)) != NULL) {
        size_t len = strlen(entry->d_name);
        const lg_plugin *plugin;
        char *path;
        lg_error err;

        if (len < 4 || strcmp(entry->d_name + len - 3, ".so") != 0)
            continue;
        path = lg_sprintf("%s/%s", dir, entry->d_name);
        plugin = lg_module_load_path(&modules, path, &err);
        if (plugin == NULL) {
            fprintf(out, "\n%s: %s\n", entry->d_name, err.message);
        } else {
            fprintf(out, "\n%s (%s): %s\n", plugin->name, lg_plugin_kind_name(plugin->kind),
                    plugin->description != NULL ? plugin->description : "");
            lg_options_print_help(out, plugin->options, 2);
        }
        free(path);
    }
    closedir(listing);
    lg_module_set_clear(&modules);
}

static void lg_print_help(const char *plugin_dir)
{
    lg_print_usage(stdout);
    printf("\nConfiguration (YAML), section server:\n");
    lg_options_print_help(stdout, lg_server_options, 2);
    printf("\nEach item of channels:\n");
    lg_options_print_help(stdout, lg_rule_options, 2);
    printf("\nEach item of sources: has name: and type:, each item of sinks: has type: (and\n"
           "optionally name:), plus the options of its plugin:\n");
    lg_print_plugin_help(stdout, plugin_dir != NULL ? plugin_dir : LG_PLUGIN_DIR);
}

/* Parse the command line into CLI. Returns -1 to continue, or an exit code. */
static int lg_parse_cli(int argc, char **argv, lg_cli *cli)
{
    static const struct option long_options[] = {
        {"config", required_argument, NULL, 'c'},     {"test", no_argument, NULL, 't'},
        {"plugin-dir", required_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},          {NULL, 0, NULL, 0},
    };
    int help = 0;
    int opt;

    while ((opt = getopt_long(argc, argv, "c:tp:hV", long_options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            cli->config_path = optarg;
            break;
        case 't':
            cli->check_only = 1;
            break;
        case 'p':
            cli->plugin_dir = optarg;
            break;
        case 'h':
            help = 1;
            break;
        case 'V':
            printf("livegate %s (plugin ABI %d, libevent %s)\n", PACKAGE_VERSION, LG_PLUGIN_ABI_VERSION,
                   event_get_version());
            return 0;
        default:
            lg_print_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "livegate: unexpected argument '%s'\n", argv[optind]);
        lg_print_usage(stderr);
        return 2;
    }
    if (help) {
        lg_print_help(cli->plugin_dir);
        return 0;
    }
    return -1;
}

static int lg_apply_log_settings(const lg_log_settings *log, lg_error *err)
{
    if (lg_log_open(log->file) < 0)
        return lg_error_set(err, "cannot open log file %s: %s (check server.log.file)", log->file, strerror(errno));
    lg_log_set_level((lg_log_level)log->level);
    lg_log_set_rate_limit((unsigned)log->rate_limit_burst, (unsigned)log->rate_limit_window_ms);
    return 0;
}

int main(int argc, char **argv)
{
    lg_cli cli = {0};
    lg_settings *settings;
    lg_gateway *gateway;
    lg_error err;
    int rc;

    rc = lg_parse_cli(argc, argv, &cli);
    if (rc >= 0)
        return rc;

    signal(SIGPIPE, SIG_IGN);
    lg_log_route_libevent();

    settings = lg_settings_load(cli.config_path, &err);
    if (settings == NULL) {
        fprintf(stderr, "livegate: %s\n", err.message);
        return 1;
    }
    if (!cli.check_only && lg_apply_log_settings(&settings->server.log, &err) < 0) {
        fprintf(stderr, "livegate: %s\n", err.message);
        lg_settings_free(settings);
        return 1;
    }

    gateway = lg_gateway_new(settings, cli.plugin_dir, &err);
    if (gateway == NULL) {
        fprintf(stderr, "livegate: %s\n", err.message);
        return 1;
    }

    if (cli.check_only) {
        printf("livegate: configuration %s is valid\n", gateway->settings->path);
        lg_gateway_free(gateway);
        return 0;
    }

    rc = lg_gateway_run(gateway, &err);
    if (rc < 0)
        LG_LOG_ERROR("core", "%s", err.message);
    lg_gateway_free(gateway);
    lg_log_close();
    return rc < 0 ? 1 : 0;
}
