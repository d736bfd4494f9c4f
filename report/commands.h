/*
 * commands.h - the pooltrace commands, one file each (cmd_NAME.c), which
 * main.c dispatches to: argc and argv after the command name; the exit
 * status returned.
 */
#ifndef POOLTRACE_COMMANDS_H
#define POOLTRACE_COMMANDS_H

int pt_cmd_run(int argc, char **argv);      /* run a program, profiled */
int pt_cmd_dump(int argc, char **argv);     /* a trace's records as text */
int pt_cmd_report(int argc, char **argv);   /* the summary report */
int pt_cmd_leaks(int argc, char **argv);    /* blocks never freed */
int pt_cmd_frag(int argc, char **argv);     /* what fills RSS */
int pt_cmd_diff(int argc, char **argv);     /* growth from one trace to another */
int pt_cmd_export(int argc, char **argv);   /* other tools' file formats */
int pt_cmd_html(int argc, char **argv);     /* the self-contained page */
int pt_cmd_symbolize(int argc, char **argv);   /* addresses to functions and lines */

#endif
