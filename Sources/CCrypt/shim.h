#ifndef SMTPD_TABLES_CCRYPT_SHIM_H
#define SMTPD_TABLES_CCRYPT_SHIM_H
#include <crypt.h>
#endif
