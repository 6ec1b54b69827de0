/* fat32_layout.h - the on-disk layout the FAT32 reader reads: byte
 * offsets of every field it uses, named as the specifications name them
 * (as FatFs's ff.c does), and the values those fields hold.
 *
 * Fields are read at these offsets with le16/le32/le64 from a byte
 * buffer (fat32_internal.h), never through a struct overlay: no packing,
 * alignment or host byte order to get wrong. The sizes in the comments
 * are in bytes. Fields the reader never looks at are left out. Not an
 * interface outside src/fs. */
#ifndef TALLY_FS_FAT32_LAYOUT_H
#define TALLY_FS_FAT32_LAYOUT_H

/* ---- boot sector and BPB -------------------------------------------------
 * Microsoft, "FAT: General Overview of On-Disk Format", section 3: the
 * first sector of the volume. */

/* Section 3.1, fields common to FAT12, FAT16 and FAT32. */
#define BS_jmpBoot      0    /* 3: 0xEB xx 0x90 or 0xE9 xx xx */
#define BPB_BytsPerSec  11   /* 2: 512, 1024, 2048 or 4096 */
#define BPB_SecPerClus  13   /* 1: a power of two, 1..128 */
#define BPB_RsvdSecCnt  14   /* 2: sectors before the first FAT, not 0 */
#define BPB_NumFATs     16   /* 1: copies of the FAT, not 0 */
#define BPB_RootEntCnt  17   /* 2: FAT12/16 root entries; 0 on FAT32 */
#define BPB_TotSec16    19   /* 2: total sectors, or 0: see BPB_TotSec32 */
#define BPB_Media       21   /* 1: 0xF0 or 0xF8..0xFF */
#define BPB_FATSz16     22   /* 2: FAT12/16 sectors per FAT; 0 on FAT32 */
#define BPB_TotSec32    32   /* 4: total sectors when BPB_TotSec16 is 0 */

/* Section 3.3, the FAT32 extended BPB (from offset 36). */
#define BPB_FATSz32     36   /* 4: sectors per FAT */
#define BPB_ExtFlags    40   /* 2: bit 7 mirroring off, bits 0-3 active FAT */
#define BPB_FSVer       42   /* 2: 0x0000 */
#define BPB_RootClus    44   /* 4: first cluster of the root directory */
#define BS_BootSig      66   /* 1: 0x29 when the next three fields are set */
#define BS_VolID        67   /* 4: volume serial number */
#define BS_VolLab       71   /* 11: label, blank padded; "NO NAME    " */
#define BS_55AA         510  /* 2: the spec's Signature_word, 0x55 0xAA */

#define BPB_EXTFLAGS_NOMIRROR 0x80   /* BPB_ExtFlags: only one FAT active */
#define BPB_EXTFLAGS_ACTIVE   0x0F   /* BPB_ExtFlags: which one */
#define BS_BOOTSIG_EXT        0x29   /* BS_BootSig: VolID, VolLab, FilSysType */

/* ---- the FAT ---------------------------------------------------------------
 * Section 4: one 32-bit little-endian entry per cluster, 28 bits used. */
#define FAT32_ENTRY_SIZE 4u
#define FAT_MASK      0x0FFFFFFFu   /* entries are 28 bits */
#define FAT_BAD       0x0FFFFFF7u   /* bad cluster marker */
#define FAT_EOC_MIN   0x0FFFFFF8u   /* end of chain: >= this */

/* ---- directory entry -------------------------------------------------------
 * Section 6: 32 bytes; times and dates packed as that section describes. */
#define FAT_DIRENT_SIZE 32u
#define DIR_Name          0    /* 11: 8.3 name, blank padded; [0]: below */
#define DIR_Attr          11   /* 1: FAT_ATTR_* (fs/fat32.h) */
#define DIR_NTRes         12   /* 1: Windows NT lower-case flags (below) */
#define DIR_CrtTimeTenth  13   /* 1: creation time, 0..199 hundredths */
#define DIR_CrtTime       14   /* 2 */
#define DIR_CrtDate       16   /* 2 */
#define DIR_LstAccDate    18   /* 2 */
#define DIR_FstClusHI     20   /* 2: high 16 bits of the first cluster */
#define DIR_WrtTime       22   /* 2 */
#define DIR_WrtDate       24   /* 2 */
#define DIR_FstClusLO     26   /* 2: low 16 bits of the first cluster */
#define DIR_FileSize      28   /* 4: bytes; 0 for a directory */

#define DIR_NAME_BASE     8    /* DIR_Name: the name part, then 3 of extension */
#define FAT_NAME11_LEN    11   /* bytes of a DIR_Name or a BS_VolLab */
#define DIR_NAME_END      0x00 /* DIR_Name[0]: free, and no entry follows */
#define DIR_NAME_FREE     0xE5 /* DIR_Name[0]: free (deleted) */
#define DIR_NAME_E5_ESC   0x05 /* DIR_Name[0]: stands for a leading 0xE5 */
/* DIR_NTRes bits (not in the spec: Windows NT's, as Linux's CASE_LOWER_*
 * and FatFs's NS_BODY/NS_EXT read them): the 8.3 name is shown in lower
 * case. */
#define DIR_NTRES_LOWER_BASE 0x08
#define DIR_NTRES_LOWER_EXT  0x10

/* ---- long-name entry -------------------------------------------------------
 * Section 7: 32 bytes in the slot of a directory entry, DIR_Attr
 * ATTR_LONG_NAME; 13 UTF-16 units in three pieces. */
#define LDIR_Ord        0    /* 1: sequence number 1..20, LAST_LONG_ENTRY */
#define LDIR_Name1      1    /* 10: units 1..5 */
#define LDIR_Attr       11   /* 1: ATTR_LONG_NAME */
#define LDIR_Type       12   /* 1: 0 */
#define LDIR_Chksum     13   /* 1: checksum of the short entry's DIR_Name */
#define LDIR_Name2      14   /* 12: units 6..11 */
#define LDIR_FstClusLO  26   /* 2: 0 */
#define LDIR_Name3      28   /* 4: units 12..13 */

#define LDIR_NAME1_UNITS 5
#define LDIR_NAME2_UNITS 6
#define LDIR_NAME3_UNITS 2
#define LDIR_UNITS       13   /* units per long-name entry */
#define LDIR_ORD_MAX     20   /* entries of a 255-unit name */
#define LDIR_ORD_MASK    0x1F /* LDIR_Ord: the sequence number */
#define LAST_LONG_ENTRY  0x40 /* LDIR_Ord: the last (first stored) entry */
#define ATTR_LONG_NAME      0x0F   /* READ_ONLY|HIDDEN|SYSTEM|VOLUME_ID */
#define ATTR_LONG_NAME_MASK 0x3F   /* the attribute bits that test it */

/* ---- MBR -------------------------------------------------------------------
 * UEFI 2.x section 5.2.1, "Legacy Master Boot Record (MBR)": sector 0 of
 * the disk; four 16-byte partition records from offset 446. */
#define MBR_PartitionRecord 446
#define MBR_Signature       510   /* 2: 0x55 0xAA */
#define MBR_RECORDS         4
#define MBR_RECORD_SIZE     16u

/* A partition record (section 5.2.1, "Legacy MBR Partition Record"). */
#define PR_BootIndicator    0     /* 1: 0x80 bootable, else 0x00 */
#define PR_OSType           4     /* 1: partition type (below) */
#define PR_StartingLBA      8     /* 4: first sector */
#define PR_SizeInLBA        12    /* 4: sectors */

#define PR_TYPE_EMPTY       0x00
#define PR_TYPE_EXTENDED    0x05  /* CHS extended: holds logical partitions */
#define PR_TYPE_EXTENDED_LBA 0x0F
#define PR_TYPE_EXTENDED_LINUX 0x85
#define PR_TYPE_GPT_PROTECTIVE 0xEE  /* section 5.2.3: a GPT follows */

/* ---- GPT -------------------------------------------------------------------
 * UEFI 2.x section 5.3.2, "GPT Header": at LBA 1. */
#define GPTH_Signature                0    /* 8: "EFI PART" */
#define GPTH_HeaderSize               12   /* 4: 92 .. the logical block size */
#define GPTH_HeaderCRC32              16   /* 4: CRC32 of HeaderSize bytes, this field 0 */
#define GPTH_MyLBA                    24   /* 8: 1 */
#define GPTH_FirstUsableLBA           40   /* 8 */
#define GPTH_PartitionEntryLBA        72   /* 8: the entry array */
#define GPTH_NumberOfPartitionEntries 80   /* 4 */
#define GPTH_SizeOfPartitionEntry     84   /* 4: 128 (all Tally accepts) */
#define GPTH_PartitionEntryArrayCRC32 88   /* 4: CRC32 of the entry array */
#define GPTH_SIZE_MIN                 92   /* the header's defined bytes */

/* Section 5.3.3, "GPT Partition Entry Array": an entry. */
#define GPTE_PartitionTypeGUID        0    /* 16: all zero: unused entry */
#define GPTE_StartingLBA              32   /* 8 */
#define GPTE_EndingLBA                40   /* 8: inclusive */
#define GPTE_SIZE                     128u

#endif
