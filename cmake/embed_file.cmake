# Build-time script: embeds one file as a NUL-terminated char array.
# -DIN=file -DOUT=file.c -DSYM=name  -> const char name[]; const unsigned long name_len;
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR n "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
file(WRITE "${OUT}.tmp" "/* generated - do not edit */\nconst char ${SYM}[] = {${hex}0x00};\nconst unsigned long ${SYM}_len = ${n};\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
