/* sl_genesis.c — see sl_genesis.h. */
#include "sl_genesis.h"

#include <string.h>

static const struct {
	const char *profile;
	const char *display_hex;
} sl_genesis_table[] = {
    {"bitcoin-main", "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"},
    {"bitcoin-test3", "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943"},
    {"regtest", "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"},
};

const char *sl_genesis_display_hex(const char *profile)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(sl_genesis_table); i++)
		if (strcmp(sl_genesis_table[i].profile, profile) == 0)
			return sl_genesis_table[i].display_hex;
	return NULL;
}

static int genesis_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int sl_genesis_hash(const char *profile, uint8_t out[32])
{
	const char *hex = sl_genesis_display_hex(profile);
	if (hex == NULL)
		return -1;
	/* Display order is the wire order reversed: byte i of the display is
	   byte 31 - i on the wire. */
	for (int i = 0; i < 32; i++) {
		int hi = genesis_nibble(hex[2 * i]);
		int lo = genesis_nibble(hex[2 * i + 1]);
		out[31 - i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
