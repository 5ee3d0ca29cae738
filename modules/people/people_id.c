/* people_id.c - ID number and phone checks (see people_id.h). */
#include <string.h>

#include "modules/people/people_id.h"
#include "server/date.h"

char people_id_check_char(const char *first17)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char map[] = "10X98765432";
    int sum = 0;

    for (int i = 0; i < 17; i++) {
        if (first17[i] < '0' || first17[i] > '9')
            return 0;
        sum += (first17[i] - '0') * w[i];
    }
    return map[sum % 11];
}

int people_id_number_check(const char *id, char norm[PEOPLE_ID_LEN + 1], int32_t *birth,
                           const char **why)
{
    char buf[PEOPLE_ID_LEN + 1], c;
    int32_t d = 0;
    int y, m, day;

    *why = "id_number_format";
    if (id == NULL || strlen(id) != PEOPLE_ID_LEN)
        return -1;
    memcpy(buf, id, sizeof buf);
    if (buf[17] == 'x')
        buf[17] = 'X';
    c = people_id_check_char(buf);
    if (c == 0 || !((buf[17] >= '0' && buf[17] <= '9') || buf[17] == 'X'))
        return -1;
    y = (buf[6] - '0') * 1000 + (buf[7] - '0') * 100 + (buf[8] - '0') * 10 + (buf[9] - '0');
    m = (buf[10] - '0') * 10 + (buf[11] - '0');
    day = (buf[12] - '0') * 10 + (buf[13] - '0');
    if (y < 1900 || date_from_ymd(y, m, day, &d) != 0) {
        *why = "id_number_birth_date";
        return -1;
    }
    if (buf[17] != c) {
        *why = "id_number_check_digit";
        return -1;
    }
    if (norm)
        memcpy(norm, buf, sizeof buf);
    if (birth)
        *birth = d;
    *why = NULL;
    return 0;
}

int people_phone_check(const char *phone)
{
    if (phone == NULL || strlen(phone) != 11 || phone[0] != '1' || phone[1] < '3' || phone[1] > '9')
        return -1;
    for (int i = 0; i < 11; i++)
        if (phone[i] < '0' || phone[i] > '9')
            return -1;
    return 0;
}
